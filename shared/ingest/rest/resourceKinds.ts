import { z } from 'zod';
import { fromZodIssues, type ValidationIssue } from '../issues.js';
import { endpointDeployment, gitCommit, namedResource, parseArmId, type NodeRef, type WorkspaceId } from '../../graph/keys.js';
import { emptyDelta, type GraphDelta } from '../../graph/model.js';
import { isRecord } from '../../util/isRecord.js';
import { getIgnoringCase, gitFromProperties, jsonInStrings, nonBlank, normalizeRunStatus, workspaceOf } from '../payload.js';
import { toInstant } from '../../util/time.js';
import { collectionForInputType, resolveAssetRef, type ResolvedAsset } from './assetRefs.js';
import { ENRICHMENT_KINDS, type EnrichmentKind, type EnrichmentMessage } from '../enrichmentMessage.js';

/**
 * Azure ML management REST resources (api-version 2025-12-01) into graph deltas. The resource
 * itself holds the links Event Grid payloads lack: job inputs, outputs, code, environment and
 * compute; a model version's producing job; a deployment's model; an endpoint's traffic.
 *
 * What is logged and projected is a `RestObservation`: the resource as fetched plus what was
 * asked for and when, so a replay projects it exactly as the first time.
 */
export const restObservationSchema = z.object({
  kind: z.enum(ENRICHMENT_KINDS),
  /** ARM id that was requested; spec examples and some responses carry placeholder `id`s. */
  armId: z.string().min(1),
  apiVersion: z.string(),
  /**
   * When it was fetched; only present when the resource carries no time of its own (a 404, or no
   * systemData), so fetching an unchanged resource again yields the same evidence, not a new one.
   */
  fetchedAt: z.string().optional(),
  status: z.number().int(),
  resource: z.unknown().optional(),
  /** For endpoints: the deployments listed under it at the same time. */
  deployments: z.array(z.unknown()).optional(),
});
export type RestObservation = z.infer<typeof restObservationSchema>;

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

/** When the resource last changed, per its own systemData. */
export function resourceTime(resource: unknown): string | undefined {
  const sd = obj(obj(resource).systemData);
  for (const candidate of [sd.lastModifiedAt, sd.createdAt]) {
    if (typeof candidate === 'string' && toInstant(candidate)) return candidate;
  }
  return undefined;
}

function armIdOf(ref: NodeRef): string | undefined {
  // Workspace-scoped keys are lower-cased ARM ids; ARM compares ids case-insensitively.
  return ref.key.startsWith('/subscriptions/') ? ref.key : undefined;
}

class DeltaBuilder {
  readonly delta = emptyDelta();
  readonly enrich: EnrichmentMessage[] = [];
  private readonly asked = new Set<string>();

  node(ref: NodeRef, facts: Props, series?: Props): void {
    this.delta.nodes.push({ ref, facts, series });
  }
  reference(ref: NodeRef): void {
    this.delta.references.push(ref);
  }
  edge(kind: GraphDelta['edges'][number]['kind'], from: NodeRef, to: NodeRef, facts?: Props, series?: Props): void {
    this.delta.references.push(from, to);
    this.delta.edges.push({ kind, from, to, facts, series });
  }
  follow(kind: EnrichmentKind, ref: NodeRef | undefined): void {
    const armId = ref && armIdOf(ref);
    if (!armId || this.asked.has(`${kind}|${armId}`)) return;
    this.asked.add(`${kind}|${armId}`);
    this.enrich.push({ kind, armId });
  }
}

const FOLLOW_FOR: Partial<Record<NodeRef['kind'], EnrichmentKind>> = {
  model: 'model',
  data: 'data',
  environment: 'environment',
  code: 'code',
  job: 'job',
};

function linkInput(b: DeltaBuilder, job: NodeRef, name: string, resolved: ResolvedAsset, facts: Props): void {
  if (resolved.ref) {
    b.edge('inputOf', resolved.ref, job, { input: name, ...facts });
    const k = FOLLOW_FOR[resolved.ref.kind];
    if (k) b.follow(k, resolved.ref);
  } else if (resolved.producedBy) {
    // Another job's output feeds this one: data flowed job -> job.
    b.edge('inputOf', resolved.producedBy, job, { input: name, ...facts, path: resolved.path });
    b.follow('job', resolved.producedBy);
  } else if (resolved.location) {
    // An unregistered location; the job that wrote it links to it as an output.
    b.edge('inputOf', resolved.location, job, { input: name, ...facts });
  }
}

/** The code and environment a job ran with, or a deployment serves with; both are fetched too. */
function linkCodeAndEnvironment(
  b: DeltaBuilder,
  ws: WorkspaceId,
  target: NodeRef,
  codeId: string | undefined,
  environmentId: string | undefined,
): void {
  const code = codeId ? resolveAssetRef(codeId, ws, 'codes').ref : undefined;
  if (code) {
    b.edge('codeOf', code, target);
    b.follow('code', code);
  }
  const environment = environmentId ? resolveAssetRef(environmentId, ws, 'environments').ref : undefined;
  if (environment) {
    b.edge('environmentOf', environment, target);
    b.follow('environment', environment);
  }
}

function projectJob(b: DeltaBuilder, ws: WorkspaceId, job: NodeRef, p: Props): void {
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
    },
    nonBlank(p.status) ? { status: normalizeRunStatus(nonBlank(p.status) as string) } : undefined,
  );

  linkCodeAndEnvironment(b, ws, job, codeId, environmentId);
  const compute = computeId
    ? (parseArmId(computeId.replace(/^azureml:/i, '')) ?? namedResource(ws, 'computes', computeId.replace(/^azureml:/i, '')))
    : undefined;
  if (compute && compute.kind === 'compute') b.edge('computeOf', compute, job);
  if (git?.commit && git.repository) {
    const commit = gitCommit(git.repository, git.commit);
    b.node(commit, { repository: git.repository, commit: git.commit.toLowerCase() });
    b.edge('commitOf', commit, job);
  }
  // Pipeline steps name their parent run in properties (v1 and v2 runs alike).
  const parent = nonBlank(getIgnoringCase(props, 'azureml.pipelinerunid')) ?? nonBlank(getIgnoringCase(props, 'azureml.parentrunid'));
  const self = job.label;
  if (parent && parent !== self) {
    const parentJob = namedResource(ws, 'jobs', parent);
    b.edge('parentOf', parentJob, job);
    b.follow('job', parentJob);
  }
}

function projectModelVersion(b: DeltaBuilder, ws: WorkspaceId, model: NodeRef, p: Props): void {
  const jobName = nonBlank(p.jobName);
  const modelUri = nonBlank(p.modelUri);
  const fromUri = resolveAssetRef(modelUri, ws, 'models');
  b.node(model, {
    description: nonBlank(p.description),
    tags: obj(p.tags),
    properties: obj(p.properties),
    modelType: nonBlank(p.modelType),
    modelUri,
    flavors: isRecord(p.flavors) ? p.flavors : undefined,
    stage: nonBlank(p.stage),
    jobName,
    isArchived: typeof p.isArchived === 'boolean' ? p.isArchived : undefined,
  });
  const producer = jobName ? namedResource(ws, 'jobs', jobName) : fromUri.producedBy;
  if (producer) {
    b.edge('produced', producer, model);
    b.follow('job', producer);
  }
}

function projectDeployment(b: DeltaBuilder, ws: WorkspaceId, deployment: NodeRef, endpoint: NodeRef, p: Props): void {
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
    },
    // Which model the deployment serves, as observed over time (Q2, Q3).
    model ? { model: model.key } : undefined,
  );
  b.edge('serves', deployment, endpoint);
  b.follow('endpoint', endpoint);
  if (model) {
    b.edge('deployedTo', model, deployment);
    b.follow('model', model);
  }
  linkCodeAndEnvironment(b, ws, deployment, codeId, environmentId);
}

function projectEndpoint(
  b: DeltaBuilder,
  ws: WorkspaceId,
  endpoint: NodeRef,
  p: Props,
  listed: unknown[] | undefined,
  collection: 'onlineEndpoints' | 'batchEndpoints',
): void {
  const traffic = obj(p.traffic);
  b.node(endpoint, {
    description: nonBlank(p.description),
    properties: obj(p.properties),
    scoringUri: nonBlank(p.scoringUri),
    authMode: nonBlank(p.authMode),
    provisioningState: nonBlank(p.provisioningState),
    traffic,
    mirrorTraffic: isRecord(p.mirrorTraffic) ? p.mirrorTraffic : undefined,
  });
  const shares = new Map<string, number>();
  for (const [name, pct] of Object.entries(traffic)) shares.set(name, typeof pct === 'number' ? pct : Number(pct) || 0);
  // Deployments listed under the endpoint but absent from `traffic` serve 0%.
  for (const d of listed ?? []) {
    const name = nonBlank(obj(d).name) ?? nonBlank(obj(d).id)?.split('/').pop();
    if (name && !shares.has(name)) shares.set(name, 0);
  }
  for (const [name, share] of shares) {
    const deployment = endpointDeployment(ws, collection, endpoint.label, name);
    b.edge('serves', deployment, endpoint, undefined, { traffic: share });
    b.follow('deployment', deployment);
  }
}

export function normalizeRestObservation(input: unknown): RestResult {
  const parsed = restObservationSchema.safeParse(input);
  if (!parsed.success) return { ok: false, issues: fromZodIssues(parsed.error.issues) };
  const o = parsed.data;
  const target = parseArmId(o.armId.replace(/\/versions$/i, ''));
  const ws = workspaceOf(o.armId)?.ws;
  const b = new DeltaBuilder();

  if (o.status === 404) {
    // Deleted, or not visible to this identity: record when, keep everything we knew.
    if (!o.fetchedAt || !toInstant(o.fetchedAt))
      return { ok: false, issues: [{ path: 'fetchedAt', message: 'required for a 404: it is when the resource was found missing' }] };
    if (target) b.node(target, { notFoundAt: o.fetchedAt });
    return { ok: true, time: o.fetchedAt, workspace: ws?.key ?? '', delta: b.delta, enrich: [] };
  }
  if (o.status < 200 || o.status >= 300)
    return { ok: false, issues: [{ path: 'status', message: `expected a 2xx or 404 response, got ${o.status}` }] };
  const envelope = envelopeSchema.safeParse(o.resource);
  if (!envelope.success) return { ok: false, issues: fromZodIssues(envelope.error.issues, 'resource') };
  if (!ws) return { ok: false, issues: [{ path: 'armId', message: 'expected a resource inside an Azure ML workspace' }] };
  const p = obj(envelope.data.properties);
  const time = resourceTime(o.resource) ?? o.fetchedAt;
  if (!time || !toInstant(time))
    return {
      ok: false,
      issues: [{ path: 'resource.systemData', message: 'the resource has no lastModifiedAt/createdAt and no fetchedAt was recorded' }],
    };

  switch (o.kind) {
    case 'job':
      if (target?.kind !== 'job') break;
      projectJob(b, ws, target, p);
      return { ok: true, time, workspace: ws.key, delta: b.delta, enrich: b.enrich };
    case 'model':
      if (target?.kind !== 'model') break;
      projectModelVersion(b, ws, target, p);
      return { ok: true, time, workspace: ws.key, delta: b.delta, enrich: b.enrich };
    case 'data':
    case 'environment':
    case 'code': {
      if (target?.kind !== o.kind) break;
      const dataUri = nonBlank(p.dataUri);
      const resolved = o.kind === 'data' ? resolveAssetRef(dataUri, ws, 'data') : {};
      b.node(target, {
        description: nonBlank(p.description),
        tags: obj(p.tags),
        properties: obj(p.properties),
        dataType: nonBlank(p.dataType),
        dataUri,
        datastore: resolved.datastore?.label,
        referencedUris: Array.isArray(p.referencedUris) ? p.referencedUris : undefined,
        image: nonBlank(p.image),
        environmentType: nonBlank(p.environmentType),
        osType: nonBlank(p.osType),
        build: isRecord(p.build) ? p.build : undefined,
        codeUri: nonBlank(p.codeUri),
        isArchived: typeof p.isArchived === 'boolean' ? p.isArchived : undefined,
      });
      return { ok: true, time, workspace: ws.key, delta: b.delta, enrich: [] };
    }
    case 'compute':
      if (target?.kind !== 'compute') break;
      b.node(target, {
        computeType: nonBlank(p.computeType),
        vmSize: nonBlank(obj(p.properties).vmSize),
        location: nonBlank(obj(o.resource).location),
      });
      return { ok: true, time, workspace: ws.key, delta: b.delta, enrich: [] };
    case 'deployment': {
      if (target?.kind !== 'deployment') break;
      const m = /\/(onlineendpoints|batchendpoints)\/([^/]+)\/deployments\//i.exec(o.armId);
      const collection = m?.[1]?.toLowerCase() === 'batchendpoints' ? 'batchEndpoints' : 'onlineEndpoints';
      const endpoint = namedResource(ws, collection, m?.[2] ?? '');
      projectDeployment(b, ws, target, endpoint, p);
      return { ok: true, time, workspace: ws.key, delta: b.delta, enrich: b.enrich };
    }
    case 'endpoint': {
      if (target?.kind !== 'endpoint') break;
      const collection = /\/batchendpoints\//i.test(o.armId) ? 'batchEndpoints' : 'onlineEndpoints';
      projectEndpoint(b, ws, target, p, o.deployments, collection);
      return { ok: true, time, workspace: ws.key, delta: b.delta, enrich: b.enrich };
    }
    case 'modelContainer':
      // A container only lists versions; the enricher fetches each, nothing to project here.
      return { ok: true, time, workspace: ws.key, delta: b.delta, enrich: [] };
  }
  return { ok: false, issues: [{ path: 'armId', message: `${o.armId} is not the ARM id of a ${o.kind}` }] };
}
