import { z } from 'zod';
import {
  datastoreBlobUrl,
  endpointDeployment,
  gitCommit,
  namedResource,
  parseArmId,
  parseRegistryUri,
  storageLocation,
  type NodeKind,
  type NodeRef,
  type WorkspaceId,
} from '../../graph/keys.js';
import { emptyDelta, type EdgeKind, type GraphDelta } from '../../graph/model.js';
import { imageDigest } from '../../util/imageRef.js';
import { isRecord } from '../../util/isRecord.js';
import { toInstant } from '../../util/time.js';
import type { EnrichmentMessage } from '../enrichmentMessage.js';
import { followUps } from '../followUps.js';
import { fromZodIssues, type ValidationIssue } from '../issues.js';
import {
  getIgnoringCase,
  gitFromProperties,
  isTerminalRunStatus,
  jsonInStrings,
  nonBlank,
  normalizeRunStatus,
  registryOf,
  workspaceOf,
} from '../payload.js';
import { collectionForInputType, resolveAssetRef, type ResolvedAsset } from './assetRefs.js';
import { mlflowRunTime, projectMetricHistory, projectMlflowRun } from './mlflowRun.js';
import { resourceTime, restObservationSchema, type RestObservation } from './observation.js';

/**
 * Azure ML management REST resources (api-version 2025-12-01) into graph deltas: one entry per
 * resource kind in REST_RESOURCE_KINDS below. The resource itself holds the links Event Grid
 * payloads lack: job inputs, outputs, code, environment and compute; a model version's producing
 * job; a deployment's model; an endpoint's traffic.
 *
 * Every kind shares the ARM envelope (`id`, `name`, `properties`, `systemData`); what is inside
 * `properties` varies by api-version and resource type, so projections read it tolerantly.
 */
interface RestResourceKind {
  /** What the requested ARM id must name; a model container names no node (it only lists versions). */
  node?: NodeKind;
  /** The resource's facts and links; nothing for a kind without a node. Issues when the body is not what the API documents. */
  project?: (b: DeltaBuilder, at: RestContext) => ValidationIssue[] | void;
  /**
   * Edges of the projection whose other end is fetched in turn (as the REST resource of its kind),
   * for the links only that resource holds.
   */
  follow?: readonly EdgeKind[];
  /** Other fetches the resource asks for (a finished job: its MLflow run). */
  alsoFetch?: (at: RestContext) => EnrichmentMessage[];
  /** When the resource changed, where the body is not an ARM resource with systemData. */
  time?: (resource: unknown) => string | undefined;
  /** What a 404 says about the node (default: the resource went missing at that time). */
  notFound?: (fetchedAt: string) => Props;
}

/** What a projection reads: the node the requested id names and the resource as fetched. */
interface RestContext {
  ws: WorkspaceId;
  node: NodeRef;
  /** The id as requested (original casing); the resource's own `id` may be a placeholder. */
  armId: string;
  /** The resource's `properties` ({} when absent). */
  properties: Props;
  resource: unknown;
  /** For endpoints: the deployments listed under it. */
  deployments: unknown[] | undefined;
  /** For data assets: the datastores their dataUri names. */
  datastores: Array<{ armId: string; resource?: unknown }> | undefined;
}

export type RestResult =
  { ok: true; time: string; workspace: string; delta: GraphDelta; enrich: EnrichmentMessage[] } | { ok: false; issues: ValidationIssue[] };

const systemDataSchema = z.looseObject({ createdAt: z.string().nullish(), lastModifiedAt: z.string().nullish() }).nullish();
const envelopeSchema = z.looseObject({
  id: z.string().nullish(),
  name: z.string().nullish(),
  properties: z.looseObject({}).nullish(),
  systemData: systemDataSchema,
});

type Props = Record<string, unknown>;
const obj = (v: unknown): Props => (isRecord(v) ? v : {});

class DeltaBuilder {
  readonly delta = emptyDelta();

  node(ref: NodeRef, facts: Props, series?: Props): void {
    this.delta.nodes.push({ ref, facts, series });
  }
  edge(kind: EdgeKind, from: NodeRef, to: NodeRef, facts?: Props, series?: Props): void {
    this.delta.references.push(from, to);
    this.delta.edges.push({ kind, from, to, facts, series });
  }
}

function linkInput(b: DeltaBuilder, job: NodeRef, name: string, resolved: ResolvedAsset, facts: Props): void {
  if (resolved.ref) {
    b.edge('inputOf', resolved.ref, job, { input: name, ...facts });
  } else if (resolved.producedBy) {
    // Another job's output feeds this one: data flowed job -> job.
    b.edge('inputOf', resolved.producedBy, job, { input: name, ...facts, path: resolved.path });
  } else if (resolved.location) {
    // An unregistered location; the job that wrote it links to it as an output.
    b.edge('inputOf', resolved.location, job, { input: name, ...facts });
  }
}

/** The code and environment a job ran with, or a deployment serves with. */
function linkCodeAndEnvironment(
  b: DeltaBuilder,
  ws: WorkspaceId,
  target: NodeRef,
  codeId: string | undefined,
  environmentId: string | undefined,
): void {
  const code = codeId ? resolveAssetRef(codeId, ws, 'codes').ref : undefined;
  if (code) b.edge('codeOf', code, target);
  const environment = environmentId ? resolveAssetRef(environmentId, ws, 'environments').ref : undefined;
  if (environment) b.edge('environmentOf', environment, target);
}

function projectJob(b: DeltaBuilder, { ws, node: job, properties: p }: RestContext): void {
  const props = obj(p.properties) as Record<string, unknown>;
  const inputs = obj(p.inputs);
  const outputs = obj(p.outputs);
  const trial = obj(p.trial);
  const parameters: Props = {};
  const inputFacts: Props = {};
  for (const [name, raw] of Object.entries(inputs)) {
    const input = obj(raw);
    const type = nonBlank(input.jobInputType) ?? nonBlank(input.job_input_type);
    if (type?.toLowerCase() === 'literal') {
      parameters[name] = input.value;
      continue;
    }
    const uri = nonBlank(input.uri) ?? nonBlank(input.path);
    inputFacts[name] = { type, uri, mode: nonBlank(input.mode) };
    linkInput(b, job, name, resolveAssetRef(uri, ws, collectionForInputType(type)), { type, mode: nonBlank(input.mode) });
  }
  const task = obj(p.taskDetails);
  for (const key of ['trainingData', 'validationData', 'testData']) {
    const data = obj(task[key]);
    const uri = nonBlank(data.uri);
    if (uri) linkInput(b, job, key, resolveAssetRef(uri, ws, 'data'), { type: nonBlank(data.jobInputType) });
  }
  const outputFacts: Props = {};
  for (const [name, raw] of Object.entries(outputs)) {
    const output = obj(raw);
    const type = nonBlank(output.jobOutputType) ?? nonBlank(output.job_output_type);
    const uri = nonBlank(output.uri);
    outputFacts[name] = { type, uri, mode: nonBlank(output.mode) };
    const assetName = nonBlank(output.assetName);
    const assetVersion = nonBlank(output.assetVersion);
    const resolved =
      assetName && assetVersion
        ? resolveAssetRef(`azureml:${assetName}:${assetVersion}`, ws, collectionForInputType(type))
        : resolveAssetRef(uri, ws, collectionForInputType(type));
    if (resolved.ref && (resolved.ref.kind === 'data' || resolved.ref.kind === 'model'))
      b.edge('produced', job, resolved.ref, { output: name });
    else if (resolved.location) b.edge('produced', job, resolved.location, { output: name });
  }

  const git = gitFromProperties(props);
  const codeId = nonBlank(p.codeId) ?? nonBlank(trial.codeId);
  const environmentId = nonBlank(p.environmentId) ?? nonBlank(trial.environmentId);
  const computeId = nonBlank(p.computeId);
  // A pipeline step names the component version it ran: an ARM id or a registry URI.
  const componentId = nonBlank(p.componentId);
  const json = jsonInStrings(props);
  b.node(
    job,
    {
      displayName: nonBlank(p.displayName),
      jobType: nonBlank(p.jobType),
      status: nonBlank(p.status) ? normalizeRunStatus(nonBlank(p.status) as string) : undefined,
      experimentName: nonBlank(p.experimentName),
      description: nonBlank(p.description),
      tags: obj(p.tags),
      properties: props,
      propertiesJson: Object.keys(json).length > 0 ? json : undefined,
      parameters: Object.keys(parameters).length > 0 ? parameters : undefined,
      inputs: Object.keys(inputFacts).length > 0 ? inputFacts : undefined,
      outputs: Object.keys(outputFacts).length > 0 ? outputFacts : undefined,
      git,
      command: nonBlank(p.command) ?? nonBlank(trial.command),
      objective: isRecord(p.objective) ? p.objective : undefined,
      searchSpace: isRecord(p.searchSpace) ? p.searchSpace : undefined,
      taskType: nonBlank(task.taskType),
      codeId,
      environmentId,
      computeId,
      componentId,
    },
    nonBlank(p.status) ? { status: normalizeRunStatus(nonBlank(p.status) as string) } : undefined,
  );

  linkCodeAndEnvironment(b, ws, job, codeId, environmentId);
  const component = componentId ? resolveAssetRef(componentId, ws, 'components').ref : undefined;
  if (component?.kind === 'component') b.edge('componentOf', component, job);
  const compute = computeId
    ? (parseArmId(computeId.replace(/^azureml:/i, '')) ?? namedResource(ws, 'computes', computeId.replace(/^azureml:/i, '')))
    : undefined;
  if (compute && compute.kind === 'compute') b.edge('computeOf', compute, job);
  if (git?.commit && git.repository) {
    const commit = gitCommit(git.repository, git.commit);
    b.node(commit, { repository: git.repository, commit: git.commit.toLowerCase() });
    b.edge('commitOf', commit, job);
  }
  // A batch scoring job names the batch endpoint and deployment that ran it in its properties.
  const batchEndpoint = nonBlank(getIgnoringCase(props, 'azureml.endpointname'));
  const batchDeployment = nonBlank(getIgnoringCase(props, 'azureml.deploymentname'));
  if (batchEndpoint && batchDeployment)
    b.edge('deploymentOf', endpointDeployment(ws, 'batchEndpoints', batchEndpoint, batchDeployment), job, {
      endpoint: batchEndpoint,
      deployment: batchDeployment,
    });
  // Pipeline steps name their parent run in properties (v1 and v2 runs alike).
  const parent = nonBlank(getIgnoringCase(props, 'azureml.pipelinerunid')) ?? nonBlank(getIgnoringCase(props, 'azureml.parentrunid'));
  const self = job.label;
  if (parent && parent !== self) b.edge('parentOf', namedResource(ws, 'jobs', parent), job);
}

/** A finished job's MLflow run: the run id is the job's name, the tracking URI the job's Tracking service. */
function jobRun({ armId, properties: p }: RestContext): EnrichmentMessage[] {
  const status = nonBlank(p.status);
  if (!status || !isTerminalRunStatus(normalizeRunStatus(status))) return [];
  const trackingUri = nonBlank(obj(obj(obj(p.services).Tracking)).endpoint);
  return [{ kind: 'mlflowRun', armId, ...(trackingUri ? { trackingUri } : {}) }];
}

/** A model version's own facts, the same in a workspace and in a registry. */
function modelFacts(p: Props): Props {
  return {
    description: nonBlank(p.description),
    tags: obj(p.tags),
    properties: obj(p.properties),
    modelType: nonBlank(p.modelType),
    modelUri: nonBlank(p.modelUri),
    flavors: isRecord(p.flavors) ? p.flavors : undefined,
    stage: nonBlank(p.stage),
    jobName: nonBlank(p.jobName),
    isArchived: typeof p.isArchived === 'boolean' ? p.isArchived : undefined,
  };
}

/**
 * Where a model or data version came from, when it says: content (`modelUri`, `dataUri`) that is
 * another version of the same kind makes this version its copy (a workspace version promoted to a
 * registry names it; a registry version copied into a workspace names that), and a property or
 * tag whose key says `base` naming a model version is the base model it was derived from
 * (`parentOf`, base -> derived). `resolve` reads an asset reference as the version's scope does.
 */
function linkOrigin(b: DeltaBuilder, node: NodeRef, p: Props, resolve: (text: string) => NodeRef | undefined): void {
  const field = node.kind === 'model' ? 'modelUri' : node.kind === 'data' ? 'dataUri' : undefined;
  const content = field ? nonBlank(p[field]) : undefined;
  const source = content ? resolve(content) : undefined;
  if (source && source.kind === node.kind && source.key !== node.key) b.edge('copiedTo', source, node, { field });
  if (node.kind !== 'model') return;
  for (const [where, values] of [
    ['properties', obj(p.properties)],
    ['tags', obj(p.tags)],
  ] as const) {
    for (const [key, value] of Object.entries(values)) {
      const base = /base/i.test(key) ? resolve(String(value)) : undefined;
      if (base?.kind === 'model' && base.key !== node.key) b.edge('parentOf', base, node, { [where === 'tags' ? 'tag' : 'property']: key });
    }
  }
}

function projectModelVersion(b: DeltaBuilder, { ws, node: model, properties: p }: RestContext): void {
  const jobName = nonBlank(p.jobName);
  const fromUri = resolveAssetRef(nonBlank(p.modelUri), ws, 'models');
  b.node(model, modelFacts(p));
  const producer = jobName ? namedResource(ws, 'jobs', jobName) : fromUri.producedBy;
  if (producer) b.edge('produced', producer, model);
  linkOrigin(b, model, p, (text) => resolveAssetRef(text, ws, 'models').ref);
}

function projectDeployment(b: DeltaBuilder, { ws, node: deployment, armId, properties: p }: RestContext): void {
  // The endpoint is named by the deployment's own id.
  const m = /\/(onlineendpoints|batchendpoints)\/([^/]+)\/deployments\//i.exec(armId);
  const collection = m?.[1]?.toLowerCase() === 'batchendpoints' ? 'batchEndpoints' : 'onlineEndpoints';
  const endpoint = namedResource(ws, collection, m?.[2] ?? '');
  const modelText = nonBlank(p.model) ?? nonBlank(obj(p.model).assetId);
  const model = resolveAssetRef(modelText, ws, 'models').ref;
  const codeId = nonBlank(obj(p.codeConfiguration).codeId);
  const environmentId = nonBlank(p.environmentId);
  b.node(
    deployment,
    {
      description: nonBlank(p.description),
      properties: obj(p.properties),
      endpointComputeType: nonBlank(p.endpointComputeType),
      instanceType: nonBlank(p.instanceType),
      provisioningState: nonBlank(p.provisioningState),
      model: modelText,
      environmentId,
      codeId,
      scoringScript: nonBlank(obj(p.codeConfiguration).scoringScript),
      // Batch deployments run on a compute cluster.
      compute: nonBlank(p.compute),
    },
    // Which model the deployment serves, as observed over time (Q2, Q3).
    model ? { model: model.key } : undefined,
  );
  b.edge('serves', deployment, endpoint);
  if (model) b.edge('deployedTo', model, deployment);
  linkCodeAndEnvironment(b, ws, deployment, codeId, environmentId);
}

function projectEndpoint(b: DeltaBuilder, { ws, node: endpoint, armId, properties: p, resource, deployments: listed }: RestContext): void {
  const batch = /\/batchendpoints\//i.test(armId);
  const collection = batch ? 'batchEndpoints' : 'onlineEndpoints';
  // A batch endpoint routes every invocation that names no deployment to its default one
  // (`defaults.deploymentName`): observed as a 100 % share, so as-of answers read both kinds alike.
  const defaultDeployment = batch ? nonBlank(obj(p.defaults).deploymentName) : undefined;
  const traffic = batch ? (defaultDeployment ? { [defaultDeployment]: 100 } : {}) : obj(p.traffic);
  b.node(
    endpoint,
    {
      // The name as the service spells it (labels keep the first spelling seen, which logs upper-case).
      name: nonBlank(obj(resource).name),
      description: nonBlank(p.description),
      properties: obj(p.properties),
      scoringUri: nonBlank(p.scoringUri),
      authMode: nonBlank(p.authMode),
      provisioningState: nonBlank(p.provisioningState),
      traffic: batch ? undefined : traffic,
      mirrorTraffic: isRecord(p.mirrorTraffic) ? p.mirrorTraffic : undefined,
      defaultDeployment,
    },
    batch ? { defaultDeployment: defaultDeployment ?? null } : undefined,
  );
  const shares = new Map<string, number>();
  for (const [name, pct] of Object.entries(traffic)) shares.set(name, typeof pct === 'number' ? pct : Number(pct) || 0);
  // Deployments listed under the endpoint but absent from `traffic` (or not the default) serve 0%.
  for (const d of listed ?? []) {
    const name = nonBlank(obj(d).name) ?? nonBlank(obj(d).id)?.split('/').pop();
    if (name && !shares.has(name)) shares.set(name, 0);
  }
  for (const [name, share] of shares) {
    const deployment = endpointDeployment(ws, collection, endpoint.label, name);
    b.edge('serves', deployment, endpoint, undefined, { traffic: share });
  }
}

/** A versioned asset's own facts (data, environment, code), the same in a workspace and in a registry. */
function assetFacts(p: Props): Props {
  return {
    description: nonBlank(p.description),
    tags: obj(p.tags),
    properties: obj(p.properties),
    dataType: nonBlank(p.dataType),
    dataUri: nonBlank(p.dataUri),
    referencedUris: Array.isArray(p.referencedUris) ? p.referencedUris : undefined,
    image: nonBlank(p.image),
    // Where the image is pinned by content; a tag can be pushed again (reproduce lists it as a gap).
    imageDigest: imageDigest(p.image),
    // `OnBaseImageUpdate`: the image built from this version changes when its base image does.
    autoRebuild: nonBlank(p.autoRebuild),
    environmentType: nonBlank(p.environmentType),
    osType: nonBlank(p.osType),
    build: isRecord(p.build) ? p.build : undefined,
    condaFile: nonBlank(p.condaFile),
    codeUri: nonBlank(p.codeUri),
    isArchived: typeof p.isArchived === 'boolean' ? p.isArchived : undefined,
  };
}

/**
 * A component version's own facts, the same in a workspace and in a registry. `componentSpec` is
 * the component's YAML as JSON (open-ended in the API): its type, command, code and environment.
 */
function componentFacts(p: Props): Props {
  const spec = obj(p.componentSpec);
  return {
    type: nonBlank(spec.type),
    displayName: nonBlank(spec.display_name) ?? nonBlank(spec.displayName),
    description: nonBlank(p.description) ?? nonBlank(spec.description),
    tags: obj(p.tags),
    properties: obj(p.properties),
    isAnonymous: typeof p.isAnonymous === 'boolean' ? p.isAnonymous : undefined,
    isArchived: typeof p.isArchived === 'boolean' ? p.isArchived : undefined,
    command: nonBlank(spec.command),
    code: nonBlank(spec.code),
    environment: nonBlank(spec.environment),
  };
}

/** A workspace component version: its facts, and the code and environment its spec names. */
function projectComponentVersion(b: DeltaBuilder, { ws, node, properties: p }: RestContext): void {
  const facts = componentFacts(p);
  b.node(node, facts);
  linkCodeAndEnvironment(b, ws, node, facts.code as string | undefined, facts.environment as string | undefined);
}

/** Versioned assets: their facts; a data asset also its location, under every name the location has. */
function projectAsset(b: DeltaBuilder, at: RestContext): void {
  const { ws, node, properties: p } = at;
  const resolved = node.kind === 'data' ? resolveAssetRef(nonBlank(p.dataUri), ws, 'data') : {};
  b.node(node, { ...assetFacts(p), datastore: resolved.datastore?.label });
  if (resolved.location) b.edge('locationOf', resolved.location, node);
  // The same files by their storage URL: how tools outside Azure ML (Spark, OpenLineage) name them.
  const url = resolved.datastore && resolved.path !== undefined ? datastorePathUrl(at, resolved.datastore, resolved.path) : undefined;
  if (url) b.edge('locationOf', storageLocation(undefined, url), node, { datastore: resolved.datastore?.label });
  if (node.kind === 'data') linkOrigin(b, node, p, (text) => resolveAssetRef(text, ws, 'data').ref);
}

/**
 * A registry asset version (model, data, environment, code, component): its facts and where it
 * came from. A registry has no jobs or datastores of its own, so only absolute references link:
 * registry URIs and ARM ids (a workspace version it was promoted from, a base model in another
 * registry, a component's code and environment).
 */
function projectRegistryAsset(b: DeltaBuilder, node: NodeRef, p: Props): void {
  if (node.kind === 'component') {
    const facts = componentFacts(p);
    b.node(node, facts);
    const code = typeof facts.code === 'string' ? absoluteAssetRef(facts.code) : undefined;
    if (code?.kind === 'code') b.edge('codeOf', code, node);
    const environment = typeof facts.environment === 'string' ? absoluteAssetRef(facts.environment) : undefined;
    if (environment?.kind === 'environment') b.edge('environmentOf', environment, node);
    return;
  }
  b.node(node, node.kind === 'model' ? modelFacts(p) : assetFacts(p));
  linkOrigin(b, node, p, absoluteAssetRef);
  // Registry storage is a URL: the files by the name other tools use.
  const content = nonBlank(node.kind === 'model' ? p.modelUri : p.dataUri);
  if (node.kind === 'data' && content && /^(https|abfss|wasbs):\/\//i.test(content))
    b.edge('locationOf', storageLocation(undefined, content), node);
}

/** A reference that names its asset without a workspace to read it in: a registry URI or an ARM id, with or without `azureml:`. */
function absoluteAssetRef(text: string): NodeRef | undefined {
  const t = text.trim();
  return parseRegistryUri(t) ?? parseArmId(/^azureml:\/[^/]/i.test(t) ? t.slice('azureml:'.length) : t);
}

/** A datastore path as a storage URL, through the datastore fetched with the resource. */
function datastorePathUrl(at: RestContext, datastore: NodeRef, path: string): string | undefined {
  const fetched = at.datastores?.find((d) => parseArmId(d.armId)?.key === datastore.key);
  const base = fetched ? datastoreBlobUrl(obj(obj(fetched.resource).properties)) : undefined;
  return base ? `${base}/${path.replace(/^\/+/, '')}` : undefined;
}

function projectCompute(b: DeltaBuilder, { node, properties: p, resource }: RestContext): void {
  b.node(node, {
    computeType: nonBlank(p.computeType),
    vmSize: nonBlank(obj(p.properties).vmSize),
    location: nonBlank(obj(resource).location),
  });
}

const zodIssues = (error: z.ZodError | undefined, prefix: string): ValidationIssue[] | void =>
  error ? fromZodIssues(error.issues, prefix) : undefined;

/** One entry per kind the enrichment queue can ask for, and the MLflow metric history fetched on demand. */
const REST_RESOURCE_KINDS: Record<RestObservation['kind'], RestResourceKind> = {
  // What fed the job, its parent run, the code, environment and component it ran with, and its MLflow run.
  job: {
    node: 'job',
    project: projectJob,
    follow: ['inputOf', 'codeOf', 'environmentOf', 'parentOf', 'deploymentOf', 'componentOf'],
    alsoFetch: jobRun,
  },
  // runs/get of the job's run: metrics, params, tags, dataset inputs. A 404 means no run, not no job.
  mlflowRun: {
    node: 'job',
    project: (b, at) => zodIssues(projectMlflowRun(b, at.ws, at.node, at.resource), 'resource'),
    time: mlflowRunTime,
    notFound: (fetchedAt) => ({ mlflowRunMissingAt: fetchedAt }),
  },
  // metrics/get-history pages of one metric.
  mlflowMetricHistory: {
    node: 'job',
    project: (b, at) => zodIssues(projectMetricHistory(b, at.node, obj(at.resource).pages), 'resource.pages'),
    notFound: (fetchedAt) => ({ mlflowRunMissingAt: fetchedAt }),
  },
  // The job that produced the version, the version it is a copy of, its base model.
  model: { node: 'model', project: projectModelVersion, follow: ['produced', 'copiedTo', 'parentOf'] },
  // A container only lists versions; the enricher fetches each, nothing to project here.
  modelContainer: {},
  data: { node: 'data', project: projectAsset, follow: ['copiedTo'] },
  environment: { node: 'environment', project: projectAsset },
  code: { node: 'code', project: projectAsset },
  // The code and environment its spec names.
  component: { node: 'component', project: projectComponentVersion, follow: ['codeOf', 'environmentOf'] },
  // Every deployment behind the endpoint, with its traffic share.
  endpoint: { node: 'endpoint', project: projectEndpoint, follow: ['serves'] },
  // Its endpoint, the model it serves, and its code and environment.
  deployment: { node: 'deployment', project: projectDeployment, follow: ['serves', 'deployedTo', 'codeOf', 'environmentOf'] },
  compute: { node: 'compute', project: projectCompute },
};

/** The other end of each edge of those kinds that touches `node`, in the order the edges were drawn. */
function linkedBy(delta: GraphDelta, node: NodeRef, kinds: readonly EdgeKind[]): NodeRef[] {
  return delta.edges.filter((e) => kinds.includes(e.kind)).map((e) => (e.to.key === node.key ? e.from : e.to));
}

/** Registry asset kinds the REST enrichment reads (a registry holds no jobs, endpoints or computes). */
const REGISTRY_KINDS: ReadonlySet<RestObservation['kind']> = new Set(['model', 'data', 'environment', 'code', 'component']);

export function normalizeRestObservation(input: unknown): RestResult {
  const parsed = restObservationSchema.safeParse(input);
  if (!parsed.success) return { ok: false, issues: fromZodIssues(parsed.error.issues) };
  const o = parsed.data;
  const target = parseArmId(o.armId.replace(/\/versions$/i, ''));
  const ws = workspaceOf(o.armId)?.ws;
  // A registry asset's id is `{registry id}/{collection}/{name}/versions/{version}`.
  const registry = target?.workspace === null ? registryOf(o.armId.replace(/\/[^/]+\/[^/]+\/versions\/[^/]+\/?$/i, '')) : undefined;
  const scope = ws?.key ?? registry?.key;
  const b = new DeltaBuilder();

  const kind = REST_RESOURCE_KINDS[o.kind];
  if (o.status === 404) {
    // Deleted, or not visible to this identity: record when, keep everything we knew.
    if (!o.fetchedAt || !toInstant(o.fetchedAt))
      return { ok: false, issues: [{ path: 'fetchedAt', message: 'required for a 404: it is when the resource was found missing' }] };
    if (target) b.node(target, kind.notFound?.(o.fetchedAt) ?? { notFoundAt: o.fetchedAt });
    return { ok: true, time: o.fetchedAt, workspace: scope ?? '', delta: b.delta, enrich: [] };
  }
  if (o.status < 200 || o.status >= 300)
    return { ok: false, issues: [{ path: 'status', message: `expected a 2xx or 404 response, got ${o.status}` }] };
  const envelope = envelopeSchema.safeParse(o.resource);
  if (!envelope.success) return { ok: false, issues: fromZodIssues(envelope.error.issues, 'resource') };
  if (!scope) return { ok: false, issues: [{ path: 'armId', message: 'expected a resource inside an Azure ML workspace or registry' }] };
  const time = (kind.time ?? resourceTime)(o.resource) ?? o.fetchedAt;
  if (!time || !toInstant(time))
    return {
      ok: false,
      issues: [{ path: 'resource.systemData', message: 'the resource has no lastModifiedAt/createdAt and no fetchedAt was recorded' }],
    };

  if (!kind.node) return { ok: true, time, workspace: scope, delta: b.delta, enrich: [] };
  if (target?.kind !== kind.node) return { ok: false, issues: [{ path: 'armId', message: `${o.armId} is not the ARM id of a ${o.kind}` }] };
  if (!ws) {
    if (!REGISTRY_KINDS.has(o.kind))
      return {
        ok: false,
        issues: [{ path: 'kind', message: `a registry holds no ${o.kind}; only models, data, environments, code and components` }],
      };
    projectRegistryAsset(b, target, obj(envelope.data.properties));
    // The workspace version it was promoted from (a component's workspace code and environment) is
    // fetched in turn; registry assets it names are fetched by capture, which knows the registries
    // (followUps.registryFollowUps).
    const follow: EdgeKind[] = ['copiedTo', 'parentOf', 'codeOf', 'environmentOf'];
    return { ok: true, time, workspace: scope, delta: b.delta, enrich: followUps(linkedBy(b.delta, target, follow)) };
  }
  const at: RestContext = {
    ws,
    node: target,
    armId: o.armId,
    properties: obj(envelope.data.properties),
    resource: o.resource,
    deployments: o.deployments,
    datastores: o.datastores,
  };
  const issues = kind.project?.(b, at);
  if (issues) return { ok: false, issues };
  const enrich = [...(kind.follow ? followUps(linkedBy(b.delta, target, kind.follow)) : []), ...(kind.alsoFetch?.(at) ?? [])];
  return { ok: true, time, workspace: ws.key, delta: b.delta, enrich };
}
