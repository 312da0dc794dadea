import { armResource, parentKey, resolveTime, resourceKey, type ArmResource, type SystemData } from './arm.js';
import type { SampleWorkspace } from './sampleWorkspace.js';

/**
 * The live resources of one stand-in, keyed by lower-cased ARM id (ARM ids compare
 * case-insensitively), and the scenario mutations tests use: traffic shifts, new deployments,
 * deletions, new model versions and jobs. Bodies go out as deep copies so callers cannot edit
 * the store by accident.
 */

/** Collections a list GET may name under each parent type (lower case); anything else is a 404. */
const CHILD_COLLECTIONS: Record<string, readonly string[]> = {
  'microsoft.machinelearningservices/workspaces': [
    'jobs',
    'models',
    'data',
    'environments',
    'codes',
    'components',
    'computes',
    'datastores',
    'onlineendpoints',
    'batchendpoints',
  ],
  'microsoft.machinelearningservices/registries': ['models', 'data', 'environments', 'codes', 'components'],
  'microsoft.machinelearningservices/workspaces/onlineendpoints': ['deployments'],
  'microsoft.machinelearningservices/workspaces/batchendpoints': ['deployments'],
};
for (const scope of ['workspaces', 'registries']) {
  for (const asset of ['models', 'data', 'environments', 'codes', 'components'])
    CHILD_COLLECTIONS[`microsoft.machinelearningservices/${scope}/${asset}`] = ['versions'];
}

export interface DeploymentSpec {
  /** ARM id of a model version, or any model URI the service accepts (registry URI). */
  model: string;
  environmentId: string;
  codeId?: string;
  scoringScript?: string;
  instanceType?: string;
  instanceCount?: number;
  description?: string;
}

export interface ModelVersionSpec {
  /** Name of the producing job, or null for a model registered from a path. */
  jobName?: string | null;
  modelUri: string;
  modelType?: string;
  description?: string | null;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  flavors?: Record<string, unknown> | null;
}

const AUTOMATION = 'azureml-standin';

function modifiedBy(at: string): Pick<SystemData, 'lastModifiedAt' | 'lastModifiedBy' | 'lastModifiedByType'> {
  return { lastModifiedAt: at, lastModifiedBy: AUTOMATION, lastModifiedByType: 'Application' };
}

function created(at: string): SystemData {
  return { createdAt: at, createdBy: AUTOMATION, createdByType: 'Application', ...modifiedBy(at) };
}

export class SampleWorkspaceState {
  private readonly resources = new Map<string, ArmResource>();
  private readonly initial: SampleWorkspace;

  constructor(workspace: SampleWorkspace) {
    this.initial = structuredClone(workspace);
    this.reset();
  }

  get workspaceId(): string {
    return this.initial.workspaceId;
  }

  /** Back to the resources the stand-in started with. */
  reset(): void {
    this.resources.clear();
    for (const r of structuredClone(this.initial.resources)) this.resources.set(resourceKey(r.id), r);
  }

  get(idOrPath: string): ArmResource | undefined {
    const r = this.resources.get(resourceKey(idOrPath));
    return r && structuredClone(r);
  }

  has(idOrPath: string): boolean {
    return this.resources.has(resourceKey(idOrPath));
  }

  /** Every resource, in insertion order. */
  all(): ArmResource[] {
    return structuredClone([...this.resources.values()]);
  }

  /**
   * The members of a collection path (`.../models`, `.../models/m/versions`), or undefined when
   * the path is not a collection of an existing parent. Order: insertion order.
   */
  list(collectionPath: string): ArmResource[] | undefined {
    const key = resourceKey(collectionPath);
    const parent = this.resources.get(parentKey(key));
    const collection = key.slice(key.lastIndexOf('/') + 1);
    if (!parent || !CHILD_COLLECTIONS[parent.type.toLowerCase()]?.includes(collection)) return undefined;
    return structuredClone([...this.resources.entries()].filter(([k]) => parentKey(k) === key).map(([, r]) => r));
  }

  /** Adds or replaces a resource as given. */
  put(resource: ArmResource): ArmResource {
    this.resources.set(resourceKey(resource.id), structuredClone(resource));
    return structuredClone(resource);
  }

  /**
   * Removes a resource and everything under it, so later GETs answer 404. A deleted deployment
   * also leaves its endpoint's traffic map (the service refuses to delete one with traffic; the
   * stand-in is lenient so a test can stage "deleted before enrichment").
   */
  deleteResource(idOrPath: string): boolean {
    const key = resourceKey(idOrPath);
    if (!this.resources.has(key)) return false;
    for (const k of [...this.resources.keys()]) if (k === key || k.startsWith(`${key}/`)) this.resources.delete(k);
    const m = /\/onlineendpoints\/[^/]+\/deployments\/([^/]+)$/.exec(key);
    const endpoint = m && this.resources.get(parentKey(parentKey(key)));
    if (m && endpoint) {
      const traffic = { ...(endpoint.properties.traffic as Record<string, number> | undefined) };
      for (const name of Object.keys(traffic)) if (name.toLowerCase() === m[1]) delete traffic[name];
      endpoint.properties.traffic = traffic;
    }
    return true;
  }

  /** Full id for a name in this workspace; ids (anything with a `/`) pass through. */
  private idOf(collection: string, nameOrId: string): string {
    return nameOrId.includes('/') ? nameOrId : `${this.initial.workspaceId}/${collection}/${nameOrId}`;
  }

  private mustGet(id: string): ArmResource {
    const r = this.resources.get(resourceKey(id));
    if (!r) throw new Error(`no such resource: ${id}`);
    return r;
  }

  /**
   * Replaces the endpoint's traffic map, as an endpoint PUT/PATCH would. Like the service:
   * every named deployment must exist and percentages must be integers summing to 100 (or all 0).
   */
  setTraffic(endpoint: string, traffic: Record<string, number>, at?: string): ArmResource {
    const ep = this.mustGet(this.idOf('onlineEndpoints', endpoint));
    for (const [name, percent] of Object.entries(traffic)) {
      if (!this.has(`${ep.id}/deployments/${name}`)) throw new Error(`endpoint ${ep.name} has no deployment "${name}"`);
      if (!Number.isInteger(percent) || percent < 0 || percent > 100)
        throw new Error(`traffic for "${name}" must be an integer 0-100, got ${percent}`);
    }
    const sum = Object.values(traffic).reduce((a, b) => a + b, 0);
    if (sum !== 100 && sum !== 0) throw new Error(`traffic values need to sum to 100, got ${sum}`);
    ep.properties.traffic = { ...traffic };
    Object.assign(ep.systemData, modifiedBy(resolveTime(at)));
    return structuredClone(ep);
  }

  /** Makes `deployment` the batch endpoint's default (`defaults.deploymentName`), as a batch endpoint update would. */
  setDefaultDeployment(endpoint: string, deployment: string, at?: string): ArmResource {
    const ep = this.mustGet(this.idOf('batchEndpoints', endpoint));
    if (!this.has(`${ep.id}/deployments/${deployment}`)) throw new Error(`endpoint ${ep.name} has no deployment "${deployment}"`);
    ep.properties.defaults = { deploymentName: deployment };
    Object.assign(ep.systemData, modifiedBy(resolveTime(at)));
    return structuredClone(ep);
  }

  /**
   * Creates or updates a managed online deployment. A new deployment joins the endpoint's
   * traffic map at 0, the way the sample lists green.
   */
  upsertDeployment(endpoint: string, name: string, spec: DeploymentSpec, at?: string): ArmResource {
    const when = resolveTime(at);
    const ep = this.mustGet(this.idOf('onlineEndpoints', endpoint));
    const id = `${ep.id}/deployments/${name}`;
    const existing = this.resources.get(resourceKey(id));
    const base = existing ?? this.deploymentTemplate(ep, id, when);
    Object.assign(base.properties, {
      model: spec.model,
      environmentId: spec.environmentId,
      codeConfiguration:
        spec.codeId === undefined
          ? (base.properties.codeConfiguration ?? null)
          : { codeId: spec.codeId, scoringScript: spec.scoringScript ?? 'score.py' },
      ...(spec.instanceType !== undefined ? { instanceType: spec.instanceType } : {}),
      ...(spec.description !== undefined ? { description: spec.description } : {}),
    });
    if (spec.instanceCount !== undefined) base.sku = { name: 'Default', tier: 'Standard', capacity: spec.instanceCount };
    Object.assign(base.systemData, modifiedBy(when));
    this.resources.set(resourceKey(id), base);
    if (!existing) {
      const traffic = (ep.properties.traffic ?? {}) as Record<string, number>;
      ep.properties.traffic = { ...traffic, [name]: 0 };
      Object.assign(ep.systemData, modifiedBy(when));
    }
    return structuredClone(base);
  }

  private deploymentTemplate(ep: ArmResource, id: string, at: string): ArmResource {
    return armResource(
      id,
      {
        description: null,
        properties: {},
        codeConfiguration: null,
        environmentId: null,
        environmentVariables: {},
        appInsightsEnabled: false,
        dataCollector: null,
        egressPublicNetworkAccess: 'Enabled',
        endpointComputeType: 'Managed',
        instanceType: 'Standard_DS3_v2',
        livenessProbe: { failureThreshold: 30, initialDelay: 'PT10S', period: 'PT10S', successThreshold: 1, timeout: 'PT2S' },
        readinessProbe: { failureThreshold: 30, initialDelay: 'PT10S', period: 'PT10S', successThreshold: 1, timeout: 'PT2S' },
        model: null,
        modelMountPath: null,
        provisioningState: 'Succeeded',
        requestSettings: { maxConcurrentRequestsPerInstance: 1, maxQueueWait: 'PT0.5S', requestTimeout: 'PT5S' },
        scaleSettings: { scaleType: 'Default' },
      },
      created(at),
      { location: ep.location ?? null, tags: {}, kind: 'Managed', identity: null, sku: { name: 'Default', tier: 'Standard', capacity: 1 } },
    );
  }

  /** Registers a model version, creating the container if needed and moving its latest/next version. */
  addModelVersion(name: string, version: string, spec: ModelVersionSpec, at?: string): ArmResource {
    const when = resolveTime(at);
    const containerId = `${this.initial.workspaceId}/models/${name}`;
    let container = this.resources.get(resourceKey(containerId));
    if (!container) {
      container = armResource(
        containerId,
        {
          description: null,
          tags: {},
          properties: {},
          isArchived: false,
          latestVersion: null,
          nextVersion: null,
          provisioningState: 'Succeeded',
        },
        created(when),
      );
      this.resources.set(resourceKey(containerId), container);
    }
    const n = Number(version);
    const latest = Number(container.properties.latestVersion ?? 0);
    if (Number.isInteger(n) && !(n < latest)) Object.assign(container.properties, { latestVersion: version, nextVersion: String(n + 1) });
    Object.assign(container.systemData, modifiedBy(when));
    return this.put(
      armResource(
        `${containerId}/versions/${version}`,
        {
          description: spec.description ?? null,
          tags: spec.tags ?? {},
          properties: spec.properties ?? {},
          isAnonymous: false,
          isArchived: false,
          stage: null,
          provisioningState: 'Succeeded',
          flavors: spec.flavors ?? null,
          jobName: spec.jobName ?? null,
          modelType: spec.modelType ?? 'custom_model',
          modelUri: spec.modelUri,
          autoDeleteSetting: null,
          intellectualProperty: null,
        },
        created(when),
      ),
    );
  }

  /**
   * Adds (or replaces) a job. `properties` must carry `jobType`; JobBase fields it leaves out get
   * the values a finished job shows.
   */
  addJob(name: string, properties: Record<string, unknown> & { jobType: string }, at?: string): ArmResource {
    const when = resolveTime(at);
    return this.put(
      armResource(
        `${this.initial.workspaceId}/jobs/${name}`,
        {
          description: null,
          tags: {},
          properties: {},
          displayName: name,
          status: 'Completed',
          experimentName: 'Default',
          services: null,
          computeId: null,
          isArchived: false,
          identity: null,
          componentId: null,
          notificationSetting: null,
          ...properties,
        },
        created(when),
      ),
    );
  }
}
