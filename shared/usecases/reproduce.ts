import { stringify } from 'yaml';
import { DomainError } from '../errors.js';
import { parseWorkspaceId } from '../graph/keys.js';
import type { EdgeDoc, NodeDoc } from '../graph/model.js';
import type { GraphStore } from '../store/graphStore.js';
import { imageDigest } from '../util/imageRef.js';
import { isRecord } from '../util/isRecord.js';
import { resolveJobName, resolveRoot } from './traversal.js';

/**
 * M9: a job rebuilt as an Azure ML CLI (v2) command job spec from what the graph recorded of it,
 * every reference pinned as far as the record allows: code and environment by version (and the
 * environment's image by digest where the image is referenced by one), inputs by data or model
 * version, compute by name, literal inputs by value. What cannot be pinned is listed, never hidden:
 * mutable image tags, images rebuilt on base-image updates, inputs named by a bare path or URL, no
 * recorded seed, code that was dirty at submission.
 *
 * The spec is printed with the `az ml job create` command that submits it; nothing is submitted.
 * Only command jobs are rebuilt (a pipeline's steps are command jobs: reproduce the step).
 */
export interface ReproduceGap {
  kind: 'mutable-image' | 'image-rebuilt' | 'unversioned-input' | 'no-seed' | 'dirty-code' | 'unrecorded';
  /** What the gap concerns: `environment`, `inputs.NAME`, `code`, `seed`, ... */
  what: string;
  detail: string;
}

export interface ReproduceAnswer {
  job: { id: string; key: string; label: string; workspace: string | null; jobType: string | null };
  /** The model version the reference named, when it named one (the job is the one that produced it). */
  model: { id: string; label: string } | null;
  /** The spec as an object and as YAML (`az ml job create --file`). */
  spec: Record<string, unknown>;
  yaml: string;
  fileName: string;
  command: string;
  /** What is pinned, and to what. */
  pinned: Array<{ what: string; to: string }>;
  gaps: ReproduceGap[];
}

const SCHEMA = 'https://azuremlschemas.azureedge.net/latest/commandJob.schema.json';
/** REST input and output modes as the CLI's YAML spells them. */
const MODES: Record<string, string> = {
  readonlymount: 'ro_mount',
  readwritemount: 'rw_mount',
  download: 'download',
  upload: 'upload',
  direct: 'direct',
  evalmount: 'eval_mount',
  evaldownload: 'eval_download',
};
const SEED = /(^|[^a-z])(seed|random_state|random_seed)([^a-z]|$)/i;
const ASSET_KINDS = new Set(['data', 'model']);

const fact = (doc: NodeDoc, name: string): unknown => doc.facts[name]?.value;
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const record = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});

/** How the spec names an asset version: `azureml:NAME:VERSION` in its workspace, its registry URI otherwise. */
function assetRef(doc: NodeDoc): string {
  return doc.workspace === null ? doc.key : `azureml:${doc.label}`;
}

async function producingJob(graph: GraphStore, model: NodeDoc, copies = 0): Promise<NodeDoc> {
  const edges = await graph.edgesOf([model.id], 'in');
  const produced = edges.find((e) => e.kind === 'produced' && e.fromKind === 'job');
  const job = produced ? await graph.readNode(produced.from) : undefined;
  if (job) return job;
  // A copy (a version promoted to a registry) was built by whatever built the version it copies.
  const origin = edges.find((e) => e.kind === 'copiedTo' && e.fromKind === 'model');
  const source = origin && copies < 4 ? await graph.readNode(origin.from) : undefined;
  if (source) return producingJob(graph, source, copies + 1);
  throw new DomainError('not-found', `No producing job is recorded for ${model.label}: it was registered from files, not by a job.`);
}

async function resolveJob(graph: GraphStore, ref: string, workspace: string | undefined, scope: Set<string> | null) {
  const root = (await resolveJobName(graph, ref, workspace, scope)) ?? (await resolveRoot(graph, ref, workspace, scope));
  if (root.kind === 'job') return { job: root, model: null };
  if (root.kind === 'model') return { job: await producingJob(graph, root), model: root };
  throw new DomainError('invalid-ref', `${root.label} is a ${root.kind}; reproduce takes a job or the model version a job produced.`);
}

export async function reproduce(
  graph: GraphStore,
  query: { ref: string; workspace?: string; scope: Set<string> | null },
): Promise<ReproduceAnswer> {
  const { job, model } = await resolveJob(graph, query.ref, query.workspace, query.scope);
  // The REST resource's job type; before enrichment, the event's run type (`azureml.PipelineRun`).
  const jobType = text(fact(job, 'jobType')) ?? (/pipeline/i.test(text(fact(job, 'runType')) ?? '') ? 'Pipeline' : null);
  if (jobType !== null && jobType.toLowerCase() !== 'command')
    throw new DomainError(
      'invalid-request',
      `${job.label} is a ${jobType} job; reproduce rebuilds command jobs. Reproduce one of its steps (the job that produced the model).`,
    );
  const ws = job.workspace ? parseWorkspaceId(job.workspace) : undefined;
  if (!ws) throw new DomainError('not-found', `${job.label} belongs to no workspace the record names.`);

  const inEdges = await graph.edgesOf([job.id], 'in');
  const sources = await graph.readNodes([...new Set(inEdges.map((e) => e.from))]);
  const from = (kind: EdgeDoc['kind']) =>
    inEdges.filter((e) => e.kind === kind).flatMap((e) => (sources.get(e.from) ? [{ edge: e, node: sources.get(e.from) as NodeDoc }] : []));

  const pinned: ReproduceAnswer['pinned'] = [];
  const gaps: ReproduceGap[] = [];
  const spec: Record<string, unknown> = { $schema: SCHEMA, type: 'command' };
  const command = text(fact(job, 'command'));
  if (command) spec.command = command;
  else gaps.push({ kind: 'unrecorded', what: 'command', detail: 'No command is recorded for the job (its REST resource was not read).' });

  // Code: the version the job uploaded, and the commit it came from.
  const code = from('codeOf')[0]?.node;
  const codeId = text(fact(job, 'codeId'));
  if (code || codeId) {
    // The code version by its ARM id as the job recorded it (`az ml job show` prints it the same way).
    spec.code = codeId?.startsWith('/') ? `azureml:${codeId}` : code ? assetRef(code) : codeId;
    pinned.push({ what: 'code', to: code?.label ?? (codeId as string) });
  } else gaps.push({ kind: 'unrecorded', what: 'code', detail: 'No code version is recorded for the job.' });
  const commit = from('commitOf')[0]?.node;
  const git = record(fact(job, 'git'));
  if (commit) pinned.push({ what: 'git commit', to: commit.label });
  if (git.dirty === true)
    gaps.push({
      kind: 'dirty-code',
      what: 'code',
      detail: 'The job was submitted with uncommitted changes: the code version holds them, the commit does not.',
    });

  // Environment: by version; its image by digest when it is referenced by one.
  const environment = from('environmentOf')[0]?.node;
  if (environment) {
    spec.environment = assetRef(environment);
    pinned.push({ what: 'environment', to: environment.label });
    const image = text(fact(environment, 'image'));
    const digest = text(fact(environment, 'imageDigest')) ?? imageDigest(image);
    if (digest) pinned.push({ what: 'environment image', to: `${image ?? ''}`.includes('@') ? (image as string) : digest });
    else if (image)
      gaps.push({
        kind: 'mutable-image',
        what: 'environment',
        detail: `${environment.label} names its image by tag (${image}); a tag can be pushed again, and Azure ML exposes no digest for it.`,
      });
    else
      gaps.push({
        kind: 'mutable-image',
        what: 'environment',
        detail: `${environment.label} is built from a Docker context or conda file; the image Azure ML built is not exposed by digest.`,
      });
    if (text(fact(environment, 'autoRebuild'))?.toLowerCase() === 'onbaseimageupdate')
      gaps.push({
        kind: 'image-rebuilt',
        what: 'environment',
        detail: `${environment.label} is rebuilt when its base image is updated (autoRebuild: OnBaseImageUpdate).`,
      });
  } else gaps.push({ kind: 'unrecorded', what: 'environment', detail: 'No environment is recorded for the job.' });

  // Inputs: asset versions where the record links one, literals by value, anything else as recorded.
  const inputs: Record<string, unknown> = {};
  const recorded = record(fact(job, 'inputs'));
  const linked = new Map(
    from('inputOf').flatMap(({ edge, node }) => (text(edge.facts.input?.value) ? [[edge.facts.input?.value as string, node]] : [])),
  );
  for (const [name, raw] of Object.entries(recorded).sort(([a], [b]) => a.localeCompare(b))) {
    const input = record(raw);
    const type = text(input.type);
    const mode = text(input.mode) ? MODES[(input.mode as string).toLowerCase()] : undefined;
    const node = linked.get(name);
    const entry: Record<string, unknown> = { ...(type ? { type } : {}) };
    if (node && ASSET_KINDS.has(node.kind)) {
      entry.path = assetRef(node);
      pinned.push({ what: `inputs.${name}`, to: node.workspace === null ? node.key : node.label });
    } else {
      entry.path = text(input.uri) ?? null;
      const writer = node?.kind === 'job' ? ` (written by job ${node.label})` : '';
      gaps.push({
        kind: 'unversioned-input',
        what: `inputs.${name}`,
        detail: `Read from ${String(entry.path)}${writer}, a path whose contents can change; register it as a data version to pin it.`,
      });
    }
    if (mode) entry.mode = mode;
    inputs[name] = entry;
  }
  const parameters = record(fact(job, 'parameters'));
  for (const [name, value] of Object.entries(parameters).sort(([a], [b]) => a.localeCompare(b))) {
    inputs[name] = value;
    pinned.push({ what: `inputs.${name}`, to: String(value) });
  }
  if (Object.keys(inputs).length > 0) spec.inputs = inputs;

  // Outputs: same names and types, written afresh (the original paths hold the original run's files).
  const outputs = Object.entries(record(fact(job, 'outputs')))
    .filter(([name]) => name !== 'default')
    .map(([name, raw]) => {
      const output = record(raw);
      const mode = text(output.mode) ? MODES[(output.mode as string).toLowerCase()] : undefined;
      return [name, { ...(text(output.type) ? { type: output.type } : {}), ...(mode ? { mode } : {}) }] as const;
    });
  if (outputs.length > 0) spec.outputs = Object.fromEntries(outputs);

  const compute = from('computeOf')[0]?.node;
  if (compute) {
    spec.compute = `azureml:${compute.label}`;
    pinned.push({ what: 'compute', to: compute.label });
  } else gaps.push({ kind: 'unrecorded', what: 'compute', detail: 'No compute is recorded for the job.' });

  const mlflowParams = record(fact(job, 'mlflowParams'));
  const seed =
    [...Object.keys(parameters), ...Object.keys(mlflowParams)].find((k) => SEED.test(k)) ??
    (command && SEED.test(command) ? 'command' : undefined);
  if (seed)
    pinned.push({
      what: 'seed',
      to: seed === 'command' ? 'set in the command' : `${seed}=${String(parameters[seed] ?? mlflowParams[seed])}`,
    });
  else
    gaps.push({
      kind: 'no-seed',
      what: 'seed',
      detail: 'No random seed is recorded (no seed or random_state parameter, input or MLflow param): a rerun may not give the same model.',
    });

  const experiment = text(fact(job, 'experimentName'));
  if (experiment) spec.experiment_name = experiment;
  spec.display_name = `reproduce-${job.label}`;
  spec.tags = { reproduces: job.label, ...(model ? { model: model.label } : {}) };

  const fileName = `reproduce-${job.label}.yml`;
  return {
    job: { id: job.id, key: job.key, label: job.label, workspace: job.workspace, jobType },
    model: model ? { id: model.id, label: model.label } : null,
    spec,
    yaml: stringify(spec, { lineWidth: 0 }),
    fileName,
    command: `az ml job create --file ${fileName} --resource-group ${ws.resourceGroup} --workspace-name ${ws.name}`,
    pinned,
    gaps,
  };
}
