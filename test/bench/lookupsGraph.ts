import { edgeKey, type Closure, type ClosureDir } from '../../shared/graph/closure.js';
import { freshPages, type ClosurePage } from '../../shared/graph/closurePages.js';
import { closureByBfs } from '../../shared/usecases/closures.js';
import { assertedNode, edgePair } from '../../shared/graph/merge.js';
import {
  endpointDeployment,
  driftSignal,
  gitCommit,
  namedResource,
  nodeId,
  registryAsset,
  storageLocation,
  versionedAsset,
  workspaceKey,
  type NodeRef,
} from '../../shared/graph/keys.js';
import type { EdgeDoc, EdgeKind, NodeDoc, Provenance } from '../../shared/graph/model.js';
import { sha256Hex } from '../../shared/util/canonicalJson.js';
import { toInstant } from '../../shared/util/time.js';
import { prng } from './stream.js';

/**
 * A seeded, realistic Azure ML lineage graph for the lookup bench (section 5), built in memory:
 *
 *   - shared dataset versions in a registry, picked by a Zipf law, so the popular ones feed
 *     thousands of jobs; curated environments and compute clusters shared the same way;
 *   - pipelines (parent job -> step jobs), each step reading the previous step's output (a storage
 *     location, every fifth one registered as a data version) and writing its own; short, medium
 *     and deep pipelines (26-32 steps: 52-64 levels from the data to the model);
 *   - many runs per pipeline, each registering a model version; fine-tuning pipelines whose run
 *     starts from the previous model version, so their lineage deepens with every version;
 *   - code versions with their git commits, workspace environments, online endpoints with one
 *     deployment per recent model version, drift signals on v1 datasets.
 *
 * Node and edge documents are built with the product's own constructors (`assertedNode`,
 * `edgePair`), closures with `closureByBfs` laid out in pages by `freshPages`, so what the bench stores
 * is what capture and the closure stage would.
 */

export type PipelineClass = 'short' | 'medium' | 'deep' | 'finetune';

interface GenNode {
  ref: NodeRef;
  facts: Record<string, unknown>;
  series?: Record<string, unknown>;
  source: 'eventgrid' | 'rest';
  eventType: string;
  at: number;
}

interface GenEdge {
  kind: EdgeKind;
  from: number;
  to: number;
  facts?: Record<string, unknown>;
  at: number;
}

export interface LookupGraph {
  ids: string[];
  nodes: GenNode[];
  edges: GenEdge[];
  /** Edge indices by node index. */
  inEdges: number[][];
  outEdges: number[][];
  /** `from|kind|to` of each edge (the closure documents' link spelling). */
  links: string[];
  index: Map<string, number>;
  /** Node indices of some roles, for choosing lookup roots. */
  roles: {
    sharedData: number[];
    /** The model version each run of a pipeline registered, with the pipeline's class. */
    models: Array<{ node: number; cls: PipelineClass; version: number }>;
  };
  pipelines: Record<PipelineClass, number>;
  runs: number;
}

const START_MS = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;
const SUBSCRIPTION = '6b0e1c8e-4f2a-4b7c-9d3e-2a1f0c9b8d7e';
const WORKSPACES = ['ws-credit', 'ws-marketing', 'ws-fraud', 'ws-forecast', 'ws-vision', 'ws-nlp'];
const COMPUTES = ['cpu-cluster', 'gpu-cluster-a100', 'spot-d16'];
const SHARED_DATA = [
  'customer-transactions',
  'clickstream-daily',
  'customer-profile',
  'product-catalog',
  'support-tickets',
  'payments-ledger',
  'web-sessions',
  'store-sales',
  'device-telemetry',
  'credit-bureau',
  'images-defects',
  'call-transcripts',
];
const SHARED_DATA_VERSIONS = 4;
const CURATED_ENVS = [
  'sklearn-1.5',
  'lightgbm-4.3',
  'pytorch-2.2-cuda12',
  'tensorflow-2.15',
  'xgboost-2.0',
  'responsibleai-0.33',
  'automl-1.60',
  'minimal-py311',
];
const REPOSITORIES = [
  'git@github.com:contoso/ml-platform.git',
  'https://github.com/contoso/credit-models',
  'https://dev.azure.com/contoso/ml/_git/forecasting',
  'https://github.com/contoso/vision',
  'git@github.com:contoso/nlp-intent.git',
  'https://github.com/contoso/pricing',
];
const MODEL_BASES = [
  'credit-risk',
  'churn-xgb',
  'fraud-detector',
  'demand-forecast',
  'nlp-intent',
  'image-defects',
  'pricing-gbm',
  'ltv-regressor',
  'ranker',
  'anomaly-iforest',
];
const STEP_NAMES = [
  'ingest',
  'validate',
  'clean',
  'join',
  'featurize',
  'split',
  'impute',
  'encode',
  'select',
  'balance',
  'augment',
  'train',
  'tune',
  'evaluate',
  'calibrate',
  'explain',
];

class Builder {
  readonly nodes: GenNode[] = [];
  readonly ids: string[] = [];
  readonly index = new Map<string, number>();
  readonly edges: GenEdge[] = [];
  private readonly edgeKeys = new Set<string>();

  node(
    ref: NodeRef,
    facts: Record<string, unknown>,
    at: number,
    eventType: string,
    extra?: { series?: Record<string, unknown>; source?: 'eventgrid' | 'rest' },
  ): number {
    const id = nodeId(ref.kind, ref.key);
    const known = this.index.get(id);
    if (known !== undefined) return known;
    const i = this.nodes.length;
    const node: GenNode = { ref, facts, at, eventType, source: extra?.source ?? 'eventgrid' };
    if (extra?.series) node.series = extra.series;
    this.nodes.push(node);
    this.ids.push(id);
    this.index.set(id, i);
    return i;
  }

  link(kind: EdgeKind, from: number, to: number, at: number, facts?: Record<string, unknown>): void {
    const key = `${from}|${kind}|${to}`;
    if (this.edgeKeys.has(key)) return;
    this.edgeKeys.add(key);
    const edge: GenEdge = { kind, from, to, at };
    if (facts) edge.facts = facts;
    this.edges.push(edge);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', `.${String(ms % 1000).padStart(3, '0')}0000Z`);
}

/** Zipf-distributed index in [0, n). */
function zipf(random: () => number, n: number, s = 1.1): () => number {
  const weights = Array.from({ length: n }, (_, k) => 1 / (k + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of weights) cumulative.push((acc += w / total));
  return () => {
    const r = random();
    const k = cumulative.findIndex((c) => r < c);
    return k < 0 ? n - 1 : k;
  };
}

export function generateLookupGraph(targetNodes: number, seed = 20240601): LookupGraph {
  const random = prng(seed);
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const hex = (n: number) => sha256Hex(String(random())).slice(0, n);
  const b = new Builder();

  const workspaces = WORKSPACES.map((name) => workspaceKey(SUBSCRIPTION, 'rg-ml-prod', name));
  const computes = workspaces.map((ws) =>
    COMPUTES.map((c) =>
      b.node(
        namedResource(ws, 'computes', c),
        { name: c, vmSize: c.startsWith('gpu') ? 'Standard_NC24ads_A100_v4' : 'Standard_D16s_v5', maxNodes: 8 },
        START_MS,
        'compute',
        { source: 'rest' },
      ),
    ),
  );
  const datastores = workspaces.map((ws) => namedResource(ws, 'datastores', 'workspaceblobstore'));
  // Registry data versions: the shared datasets. Ordered by popularity (the Zipf rank).
  const shared: number[] = [];
  for (let v = SHARED_DATA_VERSIONS; v >= 1; v--) {
    for (const name of SHARED_DATA) {
      const ref = registryAsset('contoso-shared', 'data', name, String(v));
      if (!ref) throw new Error('registry data');
      shared.push(
        b.node(
          ref,
          { name, version: String(v), type: 'uri_folder', path: `abfss://lake@contosodata.dfs.core.windows.net/curated/${name}/v${v}` },
          START_MS + v * 20 * DAY,
          'data-version',
          { source: 'rest' },
        ),
      );
    }
  }
  const sharedPick = zipf(random, shared.length, 1.15);
  const curated = CURATED_ENVS.map((name) => {
    const ref = registryAsset('azureml', 'environments', name, String(between(10, 40)));
    if (!ref) throw new Error('registry environment');
    return b.node(ref, { name, image: `mcr.microsoft.com/azureml/curated/${name}:latest` }, START_MS, 'environment-version', {
      source: 'rest',
    });
  });
  const curatedPick = zipf(random, curated.length, 1.0);

  const models: LookupGraph['roles']['models'] = [];
  const pipelines: Record<PipelineClass, number> = { short: 0, medium: 0, deep: 0, finetune: 0 };
  let runs = 0;

  for (let p = 0; b.nodes.length < targetNodes; p++) {
    const cls: PipelineClass = p % 16 === 0 ? 'deep' : p % 10 === 3 ? 'finetune' : random() < 0.22 ? 'medium' : 'short';
    pipelines[cls]++;
    const w = between(0, workspaces.length - 1);
    const ws = workspaces[w] as string;
    const datastore = datastores[w] as NodeRef;
    const compute = pick(computes[w] as number[]);
    const name = `${MODEL_BASES[p % MODEL_BASES.length]}-${p}`;
    const steps = cls === 'deep' ? between(26, 32) : cls === 'medium' ? between(8, 16) : cls === 'finetune' ? between(2, 3) : between(2, 6);
    const runCount = cls === 'deep' ? between(4, 10) : cls === 'finetune' ? between(6, 14) : between(4, 16);
    const begin = START_MS + between(0, 360) * DAY;
    const repo = pick(REPOSITORIES);
    // Inputs pinned by the pipeline definition: 1-2 shared datasets at the start, sometimes one more mid-way.
    const inputs = Array.from({ length: between(1, 2) }, () => shared[sharedPick()] as number);
    const extraInput = Array.from({ length: steps + 1 }, (_, i) => (i > 1 && random() < 0.15 ? (shared[sharedPick()] as number) : -1));
    const useCurated = random() < 0.6;
    const curatedEnv = curated[curatedPick()] as number;
    const endpoint =
      random() < 0.7
        ? b.node(
            namedResource(ws, 'onlineEndpoints', `${name}-ep`),
            { name: `${name}-ep`, authMode: 'key', scoringUri: `https://${name}-ep.westeurope.inference.ml.azure.com/score` },
            begin,
            'endpoint',
            { source: 'rest' },
          )
        : -1;
    let previousModel = -1;
    let code = -1;
    let commit = -1;
    let env = -1;

    for (let k = 1; k <= runCount; k++) {
      runs++;
      const at = begin + (k - 1) * 7 * DAY + between(0, 86_400) * 1000;
      if ((k - 1) % 3 === 0) {
        const sha = hex(40);
        commit = b.node(gitCommit(repo, sha), { repository: repo, commit: sha }, at, 'Microsoft.MachineLearningServices.RunCompleted');
        code = b.node(
          versionedAsset(ws, 'codes', `${name}-src`, hex(8)),
          { name: `${name}-src`, sourceUri: `https://${WORKSPACES[w]}.blob.core.windows.net/code/${name}` },
          at,
          'code-version',
          { source: 'rest' },
        );
        b.link('commitOf', commit, code, at);
      }
      if (!useCurated && (k === 1 || k === Math.ceil(runCount / 2))) {
        env = b.node(
          versionedAsset(ws, 'environments', `${name}-env`, String(k === 1 ? 1 : 2)),
          { name: `${name}-env`, image: `contosoacr.azurecr.io/${name}:${k}` },
          at,
          'environment-version',
          { source: 'rest' },
        );
      }
      const environment = useCurated ? curatedEnv : env;
      const runId = `${name.replace(/-/g, '_')}_${hex(8)}`;
      const parent = b.node(
        namedResource(ws, 'jobs', runId),
        {
          runId,
          experimentName: name,
          runType: 'azureml.PipelineRun',
          status: 'Completed',
          completedAt: iso(at + steps * 1_200_000),
          tags: { team: WORKSPACES[w]?.slice(3), trigger: pick(['schedule', 'manual', 'ci']) },
        },
        at,
        'Microsoft.MachineLearningServices.RunCompleted',
        { series: { status: 'Completed' } },
      );
      // The commit behind this run's code version is the run's commit too.
      b.link('commitOf', commit, parent, at);

      let previous: number[] = [...inputs];
      if (cls === 'finetune' && previousModel >= 0) previous.push(previousModel);
      for (let i = 1; i <= steps; i++) {
        const t = at + i * 1_200_000;
        const stepName = STEP_NAMES[(i - 1) % STEP_NAMES.length] as string;
        const stepRun = `${runId}_${stepName}_${i}`;
        const job = b.node(
          namedResource(ws, 'jobs', stepRun),
          {
            runId: stepRun,
            experimentName: name,
            runType: 'azureml.StepRun',
            displayName: stepName,
            status: 'Completed',
            completedAt: iso(t),
            computeTarget: COMPUTES[computes[w]?.indexOf(compute) ?? 0],
          },
          t,
          'Microsoft.MachineLearningServices.RunCompleted',
          { series: { status: 'Completed' } },
        );
        b.link('parentOf', parent, job, t);
        b.link('codeOf', code, job, t);
        b.link('environmentOf', environment, job, t);
        b.link('computeOf', compute, job, t);
        for (const input of previous)
          b.link('inputOf', input, job, t, { inputName: i === 1 ? 'training_data' : `input_${i}`, mode: 'ro_mount' });
        const extra = extraInput[i] ?? -1;
        if (extra >= 0) b.link('inputOf', extra, job, t, { inputName: 'reference_data', mode: 'download' });
        let output: number;
        if (i === steps) {
          output = b.node(
            versionedAsset(ws, 'models', name, String(k)),
            {
              name,
              version: String(k),
              tags: { framework: pick(['sklearn', 'lightgbm', 'pytorch', 'xgboost']), stage: k === runCount ? 'production' : 'archived' },
              registeredAt: iso(t + 60_000),
            },
            t + 60_000,
            'Microsoft.MachineLearningServices.ModelRegistered',
          );
          models.push({ node: output, cls, version: k });
          previousModel = output;
        } else if (i % 5 === 0) {
          output = b.node(
            versionedAsset(ws, 'data', `${name}-${stepName}`, String(k)),
            { name: `${name}-${stepName}`, version: String(k), type: 'mltable' },
            t,
            'data-version',
            { source: 'rest' },
          );
        } else {
          output = b.node(
            storageLocation(datastore, `azureml/${stepRun}/outputs/${stepName}`),
            { path: `azureml/${stepRun}/outputs/${stepName}` },
            t,
            'Microsoft.MachineLearningServices.RunCompleted',
          );
        }
        b.link('produced', job, output, t, { outputName: i === steps ? 'model_output' : `${stepName}_output` });
        previous = [output];
      }
      // The three newest model versions each have a deployment behind the pipeline's endpoint.
      if (endpoint >= 0 && k > runCount - 3) {
        const deployment = b.node(
          endpointDeployment(ws, 'onlineEndpoints', `${name}-ep`, `v${k}`),
          { name: `v${k}`, instanceType: 'Standard_DS3_v2', instanceCount: between(1, 4), trafficPercent: k === runCount ? 100 : 0 },
          at + DAY,
          'deployment',
          { source: 'rest' },
        );
        b.link('deployedTo', previousModel, deployment, at + DAY);
        b.link('environmentOf', environment, deployment, at + DAY);
        b.link('codeOf', code, deployment, at + DAY);
        b.link('serves', deployment, endpoint, at + DAY);
      }
    }
    // Drift monitoring on some deployed models: a v1 dataset of inference inputs against a baseline.
    if (endpoint >= 0 && random() < 0.3) {
      const target = b.node(
        namedResource(ws, 'datasets', `${name}-inference-inputs`),
        { name: `${name}-inference-inputs` },
        begin,
        'DatasetDriftDetected',
      );
      const baseline = b.node(
        namedResource(ws, 'datasets', `${name}-training-baseline`),
        { name: `${name}-training-baseline` },
        begin,
        'DatasetDriftDetected',
      );
      for (let d = 0; d < between(1, 3); d++) {
        const t = begin + (d + 1) * 14 * DAY;
        const drift = b.node(
          driftSignal(ws, `${name}-monitor`, hex(12)),
          { monitorName: `${name}-monitor`, coefficient: Math.round(random() * 1000) / 1000 },
          t,
          'Microsoft.MachineLearningServices.DatasetDriftDetected',
        );
        b.link('driftTargetOf', target, drift, t);
        b.link('driftBaselineOf', baseline, drift, t);
      }
    }
  }

  const inEdges: number[][] = b.nodes.map(() => []);
  const outEdges: number[][] = b.nodes.map(() => []);
  const links: string[] = [];
  b.edges.forEach((e, i) => {
    (outEdges[e.from] as number[]).push(i);
    (inEdges[e.to] as number[]).push(i);
    links.push(edgeKey(b.ids[e.from] as string, e.kind, b.ids[e.to] as string));
  });
  return {
    ids: b.ids,
    nodes: b.nodes,
    edges: b.edges,
    inEdges,
    outEdges,
    links,
    index: b.index,
    roles: { sharedData: shared, models },
    pipelines,
    runs,
  };
}

function provenance(node: { ref: NodeRef; eventType: string; source: string }, at: number): Provenance {
  const eventTime = iso(at);
  const hash = `sha256:${sha256Hex(`${node.eventType}|${node.ref.key}|${eventTime}`)}`;
  return {
    source: node.source,
    eventId: `${hash.slice(7, 15)}-${hash.slice(15, 19)}-4${hash.slice(20, 23)}-a${hash.slice(23, 26)}-${hash.slice(26, 38)}`,
    eventType: node.eventType,
    eventTime,
    instant: toInstant(eventTime) as string,
    hash,
    learnedAt: iso(at + 2_000),
  };
}

export function nodeDocument(g: LookupGraph, i: number): NodeDoc {
  const n = g.nodes[i] as GenNode;
  return assertedNode(n.ref, n.facts, n.series, provenance(n, n.at));
}

/** Both stored copies of an edge: `out` (with its source) and `in` (with its target). */
export function edgeDocuments(g: LookupGraph, e: number): [EdgeDoc, EdgeDoc] {
  const edge = g.edges[e] as GenEdge;
  const from = g.nodes[edge.from] as GenNode;
  const to = g.nodes[edge.to] as GenNode;
  const prov = provenance({ ref: to.ref, eventType: to.eventType, source: to.source }, edge.at);
  const [out, inn] = edgePair(edge.kind, from.ref, to.ref, edge.facts, prov);
  // The graph as after the closure stage has run: its closures are stored, so no link is pending.
  return [
    { ...out, closurePending: false },
    { ...inn, closurePending: false },
  ];
}

/** The `out` copy of an edge (stored with its source); section 5 does not write the `in` copy. */
export function outEdgeDocument(g: LookupGraph, e: number): EdgeDoc {
  return edgeDocuments(g, e)[0];
}

export function closureOf(g: LookupGraph, i: number, dir: ClosureDir): Closure {
  const neighbours =
    dir === 'up'
      ? (id: string) =>
          (g.inEdges[g.index.get(id) as number] as number[]).map((e) => ({
            next: g.ids[(g.edges[e] as GenEdge).from] as string,
            link: g.links[e] as string,
          }))
      : (id: string) =>
          (g.outEdges[g.index.get(id) as number] as number[]).map((e) => ({
            next: g.ids[(g.edges[e] as GenEdge).to] as string,
            link: g.links[e] as string,
          }));
  return closureByBfs(g.ids[i] as string, dir, neighbours);
}

/**
 * The closure documents (pages) of a node in one direction, as the closure stage stores them: none
 * when nothing is linked that way (the stage writes closures only for the ends of links).
 */
export function closurePages(closure: Closure): ClosurePage[] {
  return Object.keys(closure.members).length === 0 ? [] : freshPages(closure);
}
