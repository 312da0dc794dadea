import { CosmosClient, type Container, type QueryIterator } from '@azure/cosmos';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_COSMOS_KEY } from '../../infra/local/embeddedServices.js';
import { edgeKey, parseEdgeKey, type ClosureDir } from '../../shared/graph/closure.js';
import { decodePage, isLegacy, PAGE_MEMBERS, type StoredPages } from '../../shared/graph/closurePages.js';
import { GraphStore } from '../../shared/store/graphStore.js';
import { StoreMeter } from '../../shared/store/storeMeter.js';
import { lineage } from '../../shared/usecases/lineage.js';
import { toLineageEdge, toLineageNode, type LineageEdge, type LineageNode } from '../../shared/usecases/traversal.js';
import { closureOf, closurePages, generateLookupGraph, nodeDocument, outEdgeDocument, type LookupGraph } from './lookupsGraph.js';
import { fixed, heading, int, mean, percentile, runSectionAlone, table } from './report.js';
import { recordFigures, round } from './results.js';
import { prng } from './stream.js';

/**
 * Section 5: lookups on a generated graph of BENCH_LOOKUP_NODES (default 100,000) nodes, against
 * the embedded Cosmos server in a child process. For depths 1, 10 and 50 it compares `lineage()`
 * answering from the precomputed closures with a hop-by-hop baseline that reads one level per
 * round of point reads, counting sequential round trips (groups of overlapping requests, timed
 * around every Cosmos call), requests (StoreMeter) and latency. Round trips and requests are the
 * hardware-independent figures; latencies depend on the machine and on what else runs on it.
 *
 *   BENCH_LOOKUP_NODES        nodes to generate (default 100000)
 *   BENCH_LOOKUP_ROOTS        roots per measured case (default 50)
 *   BENCH_LOOKUP_CASE_SECONDS time bound per case (default 60)
 *   BENCH_LOOKUP_CONCURRENCY  writes in flight while loading (default 16; each retried on transient errors)
 *   BENCH_LOOKUP_HUB_PAGES    answer pages read from the hub (the largest shared dataset's downstream; default all)
 *   BENCH_LOOKUP_KEEPALIVE=0  the server closes every connection, as the cosmosdb-server CLI does
 *   BENCH_LOOKUP_RTT_MS       network latency added to every measured request (default 0: loopback)
 */
const NODES = envInt('BENCH_LOOKUP_NODES', 100_000);
const ROOTS = envInt('BENCH_LOOKUP_ROOTS', 50);
const CASE_SECONDS = envInt('BENCH_LOOKUP_CASE_SECONDS', 60);
const CONCURRENCY = envInt('BENCH_LOOKUP_CONCURRENCY', 16);
const HUB_PAGES = envInt('BENCH_LOOKUP_HUB_PAGES', 1000);
const KEEPALIVE = process.env.BENCH_LOOKUP_KEEPALIVE !== '0';
const RTT_MS = process.env.BENCH_LOOKUP_RTT_MS ? envInt('BENCH_LOOKUP_RTT_MS', 0) : 0;
const MAX_NODES = 500;
/** The measured cases: ordinary roots and hubs, each direction. */
const CASE = {
  deepModels: 'model at the end of a deep pipeline, upstream',
  anyNode: 'any node (uniform sample), upstream',
  upstreamHubs: 'largest upstream closures (hubs), upstream',
  deepOutputs: 'early output of a deep pipeline, downstream',
  sharedData: 'shared dataset version (hubs), downstream',
} as const;
const DEPTHS = [1, 10, 50] as const;
const SERVER_HEAP_MB = 8192;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, not ${raw}`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// The server in a child process

export interface ServerProcess {
  url: string;
  pid: number;
  /** Peak resident memory (MB) and CPU seconds so far, from /proc (Linux; undefined elsewhere). */
  usage(): { peakMb?: number; cpuSeconds?: number };
  stop(): Promise<void>;
}

export async function startServerProcess(): Promise<ServerProcess> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'lookupsServer.js');
  const child: ChildProcess = spawn(process.execPath, [`--max-old-space-size=${SERVER_HEAP_MB}`, script], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_LOOKUP_KEEPALIVE: KEEPALIVE ? '1' : '0' },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the Cosmos server process');
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`the Cosmos server process exited with code ${code}: ${out}`)));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  const kill = () => child.exitCode === null && child.kill('SIGKILL');
  process.once('exit', kill);
  const ticks = 100; // USER_HZ on Linux
  return {
    url: `https://127.0.0.1:${port}/`,
    pid,
    usage() {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const cpu = (Number(fields[11]) + Number(fields[12])) / ticks;
        return { peakMb: hwm ? Number(hwm[1]) / 1024 : undefined, cpuSeconds: cpu };
      } catch {
        return {};
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 3000))]);
      kill();
      process.removeListener('exit', kill);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Counting round trips: every Cosmos call timed; overlapping calls are one round trip

class RoundLog {
  spans: Array<[number, number]> = [];
  queryPages = 0;
  /** Documents the measured requests returned (a point read that found its document: 1; a query page: its rows). */
  documents = 0;

  reset(): void {
    this.spans = [];
    this.queryPages = 0;
    this.documents = 0;
  }

  /** Sequential round trips: groups of requests that overlap in time. */
  rounds(): number {
    const spans = [...this.spans].sort((a, b) => a[0] - b[0]);
    let rounds = 0;
    let end = Number.NEGATIVE_INFINITY;
    for (const [s, e] of spans) {
      if (s >= end) rounds++;
      end = Math.max(end, e);
    }
    return rounds;
  }
}

type Fn = (...args: unknown[]) => unknown;
const bound = (target: object, prop: string | symbol): unknown => {
  const value: unknown = Reflect.get(target, prop, target);
  return typeof value === 'function' ? (value as Fn).bind(target) : value;
};

/** The container with `item().read`, bulk calls and query pages timed into `log`; everything else passes through. */
function instrument(container: Container, log: RoundLog): Container {
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      if (RTT_MS > 0) await new Promise((resolve) => setTimeout(resolve, RTT_MS));
      return await work();
    } finally {
      log.spans.push([start, performance.now()]);
    }
  };
  const items = new Proxy(container.items, {
    get(target, prop) {
      // Bulk reads (store/reads.ts readMany): one request each, the documents they found counted.
      if (prop === 'bulk')
        return async (...args: Parameters<typeof target.bulk>) => {
          const answers = await timed(() => target.bulk(...args));
          log.documents += answers.filter((a) => a.statusCode === 200 && a.resourceBody !== undefined).length;
          return answers;
        };
      if (prop !== 'query') return bound(target, prop);
      return (...args: unknown[]) => {
        const iterator = (target.query as unknown as (...a: unknown[]) => QueryIterator<unknown>).apply(target, args);
        return new Proxy(iterator, {
          get(it, p) {
            if (p !== 'fetchNext') return bound(it, p);
            return async () => {
              log.queryPages++;
              const page = await timed(() => it.fetchNext());
              log.documents += page.resources.length;
              return page;
            };
          },
        });
      };
    },
  });
  return new Proxy(container, {
    get(target, prop) {
      if (prop === 'items') return items;
      if (prop !== 'item') return bound(target, prop);
      return (...args: Parameters<Container['item']>) => {
        const item = target.item(...args);
        return new Proxy(item, {
          get(it, p) {
            if (p !== 'read') return bound(it, p);
            return async (...a: Parameters<typeof it.read>) => {
              const response = await timed(() => it.read(...a));
              if (response.resource !== undefined) log.documents++;
              return response;
            };
          },
        });
      };
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The hop-by-hop baseline

interface Answer {
  nodes: LineageNode[];
  edges: LineageEdge[];
  partial: boolean;
}

interface BaselineAnswer extends Answer {
  /** Round trips by construction (cross-checks the timed count). */
  rounds: number;
  /** Adjacency read from page 0 of a closure with more distance-1 members than a page holds. */
  adjacencyMaybeCut: number;
}

/** Links between `node` and its direct neighbours in `dir`, from page 0 of its closure. */
function adjacency(stored: StoredPages | undefined, node: string, dir: ClosureDir): { links: string[]; maybeCut: boolean } {
  const head = stored?.get(0)?.doc;
  if (!head) return { links: [], maybeCut: false };
  const links = decodePage(head).edges.filter((e) => {
    const { from, to } = parseEdgeKey(e);
    return dir === 'up' ? to === node : from === node;
  });
  // Members nearest first: the distance-1 members, and their links with the owner, are all on
  // page 0 unless there are more of them than a page holds.
  const maybeCut = !isLegacy(head) && (head.counts?.[0] ?? 0) > PAGE_MEMBERS;
  return { links, maybeCut };
}

/**
 * Breadth-first, one round of parallel point reads per level: the level's nodes, the stored
 * (`out`) copies of the links that reached them, and (unless it is the last level) their
 * adjacency, which is the distance-1 part of their closure document. The first round reads the
 * root and its adjacency. No queries: on the embedded server a query scans the whole container.
 */
async function hopByHop(
  graph: GraphStore,
  rootId: string,
  direction: 'upstream' | 'downstream',
  depth: number,
  maxNodes: number,
): Promise<BaselineAnswer> {
  const dir: ClosureDir = direction === 'upstream' ? 'up' : 'down';
  const first = await graph.readDocs({ nodes: [rootId], closures: { dir, of: [rootId] } });
  let rounds = 1;
  const root = first.nodes.get(rootId);
  if (!root) throw new Error(`no node ${rootId}`);
  const nodes: LineageNode[] = [toLineageNode(root, 0)];
  const edges: LineageEdge[] = [];
  const seen = new Set([rootId]);
  const adj = new Map<string, string[]>();
  let adjacencyMaybeCut = 0;
  const rootAdj = adjacency(first.closures.get(rootId), rootId, dir);
  adj.set(rootId, rootAdj.links);
  if (rootAdj.maybeCut) adjacencyMaybeCut++;
  let frontier = [rootId];
  let cut = false;
  for (let level = 1; level <= depth && frontier.length > 0 && !cut; level++) {
    const next: string[] = [];
    const links: Array<{ from: string; kind: string; to: string }> = [];
    for (const n of frontier) {
      for (const key of adj.get(n) ?? []) {
        const link = parseEdgeKey(key);
        const other = dir === 'up' ? link.from : link.to;
        if (!seen.has(other)) {
          if (seen.size >= maxNodes) {
            cut = true;
            continue;
          }
          seen.add(other);
          next.push(other);
        }
        links.push(link);
      }
    }
    if (next.length === 0 && links.length === 0) break;
    const readAdjacency = level < depth && !cut;
    const found = await graph.readDocs({ nodes: next, edges: links, ...(readAdjacency ? { closures: { dir, of: next } } : {}) });
    rounds++;
    for (const id of next) {
      const node = found.nodes.get(id);
      if (node) nodes.push(toLineageNode(node, level));
      if (readAdjacency) {
        const a = adjacency(found.closures.get(id), id, dir);
        adj.set(id, a.links);
        if (a.maybeCut) adjacencyMaybeCut++;
      }
    }
    for (const l of links) {
      const edge = found.edges.get(edgeKey(l.from, l.kind, l.to));
      if (edge) edges.push(toLineageEdge(edge));
    }
    frontier = next;
  }
  return { nodes, edges, partial: cut, rounds, adjacencyMaybeCut };
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Sample {
  ms: number;
  rounds: number;
  requests: number;
  /** Documents read (found by point reads, returned by queries). */
  documents: number;
  queryPages: number;
  nodes: number;
  edges: number;
  partial: boolean;
  ids: string[];
}

interface CaseResult {
  label: string;
  direction: 'upstream' | 'downstream';
  depth: number;
  closure: Sample[];
  baseline: Sample[];
  /** Roots lineage() answered by walking (answeredFrom: a truncated or behind closure). */
  walked: number;
  /** Complete answers (neither partial) with the same node set / compared. */
  sameNodes: number;
  compared: number;
  adjacencyMaybeCut: number;
  baselineRoundsMismatch: number;
  /** Lookups that threw (e.g. a query past the SDK's request timeout), with how long they took. */
  failures: Array<{ path: 'closure' | 'baseline'; ms: number; error: string }>;
}

interface Bench {
  graph: GraphStore;
  meter: StoreMeter;
  log: RoundLog;
}

async function measure<T extends Answer>(bench: Bench, work: () => Promise<T>): Promise<{ sample: Sample; answer: T }> {
  bench.log.reset();
  const before = bench.meter.storeRequests;
  const start = performance.now();
  const answer = await work();
  const ms = performance.now() - start;
  return {
    answer,
    sample: {
      ms,
      rounds: bench.log.rounds(),
      requests: bench.meter.storeRequests - before,
      documents: bench.log.documents,
      queryPages: bench.log.queryPages,
      nodes: answer.nodes.length,
      edges: answer.edges.length,
      partial: answer.partial,
      ids: answer.nodes.map((n) => n.id).sort(),
    },
  };
}

async function runCase(
  bench: Bench,
  label: string,
  direction: 'upstream' | 'downstream',
  depth: number,
  roots: string[],
  options: { seconds?: number; baselineFirst?: boolean } = {},
): Promise<CaseResult> {
  const result: CaseResult = {
    label,
    direction,
    depth,
    closure: [],
    baseline: [],
    walked: 0,
    sameNodes: 0,
    compared: 0,
    adjacencyMaybeCut: 0,
    baselineRoundsMismatch: 0,
    failures: [],
  };
  const deadline = performance.now() + (options.seconds ?? CASE_SECONDS) * 1000;
  const attempt = async <T extends Answer>(path: 'closure' | 'baseline', work: () => Promise<T>) => {
    const start = performance.now();
    try {
      return await measure(bench, work);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const message = error instanceof Error ? error.message : String(error);
      result.failures.push({
        path,
        ms: performance.now() - start,
        error: `${typeof code === 'number' || typeof code === 'string' ? code : 'error'}: ${message}`,
      });
      return undefined;
    }
  };
  for (const [i, root] of roots.entries()) {
    if (i > 0 && performance.now() > deadline) break;
    const runClosure = () => attempt('closure', () => lineage(bench.graph, { ref: root, direction, depth, maxNodes: MAX_NODES }));
    const runBaseline = () => attempt('baseline', () => hopByHop(bench.graph, root, direction, depth, MAX_NODES));
    // Alternate which goes first so neither always meets a warmer server.
    let c: Awaited<ReturnType<typeof runClosure>>;
    let b: Awaited<ReturnType<typeof runBaseline>>;
    if (options.baselineFirst || i % 2 === 1) {
      b = await runBaseline();
      c = await runClosure();
    } else {
      c = await runClosure();
      b = await runBaseline();
    }
    if (c) {
      result.closure.push(c.sample);
      // The answer says whether it walked (a closure behind the stage, or one it could not trust).
      if (c.answer.answeredFrom === 'walk') result.walked++;
    }
    if (b) {
      result.baseline.push(b.sample);
      result.adjacencyMaybeCut += b.answer.adjacencyMaybeCut;
      if (b.answer.rounds !== b.sample.rounds) result.baselineRoundsMismatch++;
    }
    if (c && b && !c.sample.partial && !b.sample.partial) {
      result.compared++;
      if (c.sample.ids.join() === b.sample.ids.join()) result.sameNodes++;
    }
  }
  return result;
}

/** `3` when every lookup took the same, else `mean (min-max)`. */
function spread(values: readonly number[], digits = 1): string {
  if (values.length === 0) return '-';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? int(lo) : `${fixed(mean(values), digits)} (${int(lo)}-${int(hi)})`;
}

function latency(samples: readonly Sample[]): string {
  if (samples.length === 0) return '-';
  const ms = samples.map((s) => s.ms);
  const f = (n: number) => (n >= 100 ? int(n) : fixed(n, 1));
  return `${f(percentile(ms, 50))} / ${f(percentile(ms, 95))} / ${f(Math.max(...ms))}`;
}

function nodesCell(r: CaseResult): string {
  const c = mean(r.closure.map((s) => s.nodes));
  const b = mean(r.baseline.map((s) => s.nodes));
  const pc = r.closure.filter((s) => s.partial).length;
  const pb = r.baseline.filter((s) => s.partial).length;
  return `${fixed(c, 0)} / ${fixed(b, 0)}${pc + pb > 0 ? ` (paged ${pc}/${pb})` : ''}`;
}

/** Every answer page of one lookup, followed by cursor: round trips and requests of each page, the node ids seen. */
async function pageThrough(
  bench: Bench,
  root: string,
  depth: number,
  maxPages: number,
): Promise<{
  pages: Array<Sample & { walked: boolean }>;
  ids: Set<string>;
  duplicates: number;
  complete: boolean;
  answeredFrom: Set<string>;
}> {
  const pages: Array<Sample & { walked: boolean }> = [];
  const ids = new Set<string>();
  const answeredFrom = new Set<string>();
  let duplicates = 0;
  let cursor: string | undefined;
  do {
    const { sample: one, answer } = await measure(bench, () =>
      lineage(bench.graph, { ref: root, direction: 'downstream', depth, maxNodes: MAX_NODES, ...(cursor ? { cursor } : {}) }),
    );
    pages.push({ ...one, walked: answer.answeredFrom === 'walk' });
    answeredFrom.add(answer.answeredFrom);
    for (const n of answer.nodes) {
      if (ids.has(n.id)) duplicates++;
      ids.add(n.id);
    }
    cursor = answer.cursor;
  } while (cursor && pages.length < maxPages);
  return { pages, ids, duplicates, complete: cursor === undefined, answeredFrom };
}

// ---------------------------------------------------------------------------------------------
// Loading the graph

interface ClosureStats {
  upEcc: Uint32Array;
  downEcc: Uint32Array;
  upSize: Uint32Array;
  downSize: Uint32Array;
  /** Closure documents (pages) per closure. */
  upPages: Uint32Array;
  downPages: Uint32Array;
  /** The largest closure page, JSON bytes. */
  largestPageBytes: number;
  bfsMs: number;
  closureEdges: number;
}

interface LoadResult {
  nodes: number;
  edges: number;
  closures: number;
  /** Bytes of the documents as JSON, by what they are. */
  bytes: { nodes: number; edges: number; closures: number };
  ms: number;
  /** Creates tried again after a transient failure (a reset connection, a timeout, 408/429/449/503). */
  retries: number;
  stats: ClosureStats;
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_SOCKET',
  408,
  429,
  449,
  500,
  503,
]);

/**
 * One create, tried again on a transient failure with a growing pause: the loader's hundreds of
 * thousands of writes on a loaded machine meet reset connections (the session before this one lost
 * the section to one at load 22). A conflict on a retry means the first attempt landed.
 */
async function createRetried(container: Container, doc: object, onRetry: () => void): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await container.items.create(doc);
      return;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt > 0 && code === 409) return;
      if (attempt >= 8 || !TRANSIENT_CODES.has(code as string | number)) throw error;
      onRetry();
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}

async function load(container: Container, g: LookupGraph, onProgress: (done: number, total: number) => void): Promise<LoadResult> {
  const n = g.ids.length;
  const stats: ClosureStats = {
    upEcc: new Uint32Array(n),
    downEcc: new Uint32Array(n),
    upSize: new Uint32Array(n),
    downSize: new Uint32Array(n),
    upPages: new Uint32Array(n),
    downPages: new Uint32Array(n),
    largestPageBytes: 0,
    bfsMs: 0,
    closureEdges: 0,
  };
  const counts = { nodes: 0, edges: 0, closures: 0 };
  const bytes = { nodes: 0, edges: 0, closures: 0 };
  const size = (doc: object) => Buffer.byteLength(JSON.stringify(doc));
  const total = n + g.edges.length;
  function* documents(): Generator<object> {
    for (let i = 0; i < n; i++) {
      counts.nodes++;
      const node = nodeDocument(g, i);
      bytes.nodes += size(node);
      yield node;
      for (const e of g.outEdges[i] as number[]) {
        counts.edges++;
        const edge = outEdgeDocument(g, e);
        bytes.edges += size(edge);
        yield edge;
      }
      for (const dir of ['up', 'down'] as const) {
        const t0 = performance.now();
        const closure = closureOf(g, i, dir);
        const pages = closurePages(closure);
        stats.bfsMs += performance.now() - t0;
        const distances = Object.values(closure.members);
        (dir === 'up' ? stats.upEcc : stats.downEcc)[i] = distances.reduce((a, b) => Math.max(a, b), 0);
        (dir === 'up' ? stats.upSize : stats.downSize)[i] = distances.length;
        (dir === 'up' ? stats.upPages : stats.downPages)[i] = pages.length;
        stats.closureEdges += closure.edges.length;
        for (const page of pages) {
          counts.closures++;
          const bytesOfPage = size(page);
          stats.largestPageBytes = Math.max(stats.largestPageBytes, bytesOfPage);
          bytes.closures += bytesOfPage;
          yield page;
        }
      }
    }
  }
  const docs = documents();
  let written = 0;
  let retries = 0;
  const start = performance.now();
  const lanes = Array.from({ length: CONCURRENCY }, async () => {
    for (let next = docs.next(); !next.done; next = docs.next()) {
      await createRetried(container, next.value, () => retries++);
      if (++written % 20_000 === 0) onProgress(counts.nodes + counts.edges, total);
    }
  });
  await Promise.all(lanes);
  return { ...counts, bytes, ms: performance.now() - start, retries, stats };
}

// ---------------------------------------------------------------------------------------------

function sample<T>(items: readonly T[], count: number, random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, count);
}

function mb(bytes: number): string {
  return `${int(bytes / 1024 / 1024)} MB`;
}

export async function runLookupBench(): Promise<string> {
  console.log(
    heading(`5. Lookups on a generated ${int(NODES)}-node graph: closures vs hop by hop (embedded Cosmos server, child process)`),
  );
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  // Progress a line a phase (and every tenth of the load), with the time since the section began:
  // the section runs for minutes, and its output may be a log file rather than a terminal.
  const phase = (what: string) => console.log(`  [${fixed((performance.now() - started) / 1000, 0)} s] ${what}`);

  phase('generating the graph');
  const generating = performance.now();
  const g = generateLookupGraph(NODES);
  const generateMs = performance.now() - generating;
  const kinds = new Map<string, number>();
  for (const node of g.nodes) kinds.set(node.ref.kind, (kinds.get(node.ref.kind) ?? 0) + 1);
  const jobsOf = (i: number) => (g.outEdges[i] as number[]).filter((e) => g.edges[e]?.kind === 'inputOf').length;
  const fanOut = g.roles.sharedData.map(jobsOf).sort((a, b) => b - a);
  const versionsPerPipeline = new Map<string, number>();
  for (const m of g.roles.models) {
    const name = g.nodes[m.node]?.ref.label.split(':')[0] ?? '';
    versionsPerPipeline.set(name, (versionsPerPipeline.get(name) ?? 0) + 1);
  }
  const versions = [...versionsPerPipeline.values()];
  console.log(`  graph (seeded): ${int(g.ids.length)} nodes, ${int(g.edges.length)} links, generated in ${fixed(generateMs / 1000, 1)} s`);
  console.log(
    `    nodes by kind: ${[...kinds]
      .sort((a, b) => b[1] - a[1])
      .map(([k, c]) => `${k} ${int(c)}`)
      .join(', ')}`,
  );
  console.log(
    `    ${int(Object.values(g.pipelines).reduce((a, b) => a + b, 0))} pipelines (${Object.entries(g.pipelines)
      .map(([c, k]) => `${c} ${k}`)
      .join(', ')}), ` +
      `${int(g.runs)} runs; model versions per pipeline ${fixed(mean(versions), 1)} (${Math.min(...versions)}-${Math.max(...versions)})`,
  );
  console.log(
    `    shared dataset versions (${g.roles.sharedData.length}): jobs reading each, most used first: ${fanOut.slice(0, 6).map(int).join(', ')}, ... ${int(fanOut[fanOut.length - 1] ?? 0)}`,
  );

  const server = await startServerProcess();
  try {
    const client = new CosmosClient({
      endpoint: server.url,
      key: LOCAL_COSMOS_KEY,
      connectionPolicy: { enableEndpointDiscovery: false },
      agent: new Agent({ rejectUnauthorized: false, keepAlive: true }),
    });
    const { database } = await client.databases.createIfNotExists({ id: 'bench-lookups' });
    const { container } = await database.containers.createIfNotExists({ id: 'graph', partitionKey: { paths: ['/pk'] } });

    const loadCpu0 = process.cpuUsage();
    const serverCpu0 = server.usage().cpuSeconds ?? Number.NaN;
    phase(`loading ${int(g.ids.length)} nodes and ${int(g.edges.length)} links with their closures into the server`);
    let shown = 0;
    const loaded = await load(container, g, (done, total) => {
      if (done / total < shown + 0.1) return;
      shown = Math.floor((done / total) * 10) / 10;
      phase(`loading: ${int(done)} / ${int(total)} nodes and links (closures as they go)`);
    });
    const loadCpu = process.cpuUsage(loadCpu0);
    const serverCpu = (server.usage().cpuSeconds ?? Number.NaN) - serverCpu0;
    const docs = loaded.nodes + loaded.edges + loaded.closures;
    const s = loaded.stats;
    console.log(
      `  loaded: ${int(docs)} documents = ${int(loaded.nodes)} nodes + ${int(loaded.edges)} edges (the out copy of each link only: the in copies are read by\n` +
        `    no lookup measured here - the closure path reads out copies, the baseline reads adjacency from closures) + ${int(loaded.closures)} closures;\n` +
        `    ${fixed(loaded.ms / 1000, 1)} s, ${int(docs / (loaded.ms / 1000))} documents/s, single creates, ${CONCURRENCY} in flight; ` +
        `closures by closureByBfs in memory as they were written: ${fixed(s.bfsMs / 1000, 1)} s of that`,
    );
    console.log(
      `    CPU while loading: bench process ${fixed((loadCpu.user + loadCpu.system) / 1e6, 0)} s, Cosmos server process ${fixed(serverCpu, 0)} s (${cpus().length} cores)`,
    );
    const sizes = (a: Uint32Array) => {
      const sorted = [...a].sort((x, y) => x - y);
      return `${fixed(mean(sorted), 1)} / ${int(percentile(sorted, 50))} / ${int(percentile(sorted, 99))} / ${int(sorted[sorted.length - 1] ?? 0)}`;
    };
    const paged = (pages: Uint32Array) => pages.filter((p) => p > 1).length;
    const maxPages = [...s.upPages, ...s.downPages].reduce((a, b) => Math.max(a, b), 0);
    console.log(
      `    closure members mean / p50 / p99 / max: upstream ${sizes(s.upSize)}, downstream ${sizes(s.downSize)} (none cut); links held ${int(s.closureEdges)}`,
    );
    console.log(`    levels (farthest member) mean / p50 / p99 / max: upstream ${sizes(s.upEcc)}, downstream ${sizes(s.downEcc)}`);
    console.log(
      `    closures over several pages (${int(PAGE_MEMBERS)} members a page): upstream ${paged(s.upPages)}, downstream ${paged(s.downPages)}; ` +
        `most pages ${maxPages}; largest page ${fixed(s.largestPageBytes / 1024, 0)} KB (Cosmos DB's item limit: 2 MB)`,
    );
    if (loaded.retries > 0) console.log(`    creates tried again after a transient failure: ${int(loaded.retries)}`);
    // The graph as the product stores it holds both copies of each link (out with its source, in
    // with its target, the same size); only the out copies are loaded here.
    const graphBytes = loaded.bytes.nodes + 2 * loaded.bytes.edges;
    const storageRatio = loaded.bytes.closures / graphBytes;
    const toNodes = loaded.bytes.closures / loaded.bytes.nodes;
    console.log(
      `    storage (JSON bytes): nodes ${mb(loaded.bytes.nodes)}, links ${mb(2 * loaded.bytes.edges)} (both copies), closures ${mb(loaded.bytes.closures)}: ` +
        `closures are ${fixed(toNodes, 2)}x the nodes, ${fixed(storageRatio, 2)}x nodes and links`,
    );

    // Roots.
    const random = prng(4242);
    const all = g.ids.map((_, i) => i);
    const deepModels = g.roles.models.filter((m) => (s.upEcc[m.node] ?? 0) >= 50).map((m) => m.node);
    const deepOutputs = all.filter((i) => (s.downEcc[i] ?? 0) >= 50 && ['storage', 'data'].includes(g.nodes[i]?.ref.kind ?? ''));
    const sharedWithDownstream = g.roles.sharedData.filter((i) => (s.downSize[i] ?? 0) > 0);
    const ids = (list: number[]) => list.map((i) => g.ids[i] as string);
    const upRoots = ids(sample(deepModels, ROOTS, random));
    const anyRoots = ids(sample(all, ROOTS, random));
    const downRoots = ids(sample(deepOutputs, ROOTS, random));
    const sharedRoots = ids(sample(sharedWithDownstream, ROOTS, random));
    // Upstream hubs: the nodes with the largest upstream closures (a model at the end of the most shared lineage).
    const upHubRoots = ids([...all].sort((a, b) => (s.upSize[b] ?? 0) - (s.upSize[a] ?? 0) || a - b).slice(0, ROOTS));
    // The hub: the shared dataset version with the most downstream (issue 17: past 5,000 members it used to be cut).
    const hub = g.roles.sharedData.reduce(
      (best, i) => ((s.downSize[i] ?? 0) > (s.downSize[best] ?? 0) ? i : best),
      g.roles.sharedData[0] as number,
    );
    console.log(
      `  roots: ${int(deepModels.length)} model versions with >= 50 levels upstream, ${int(deepOutputs.length)} storage/data nodes with >= 50 levels downstream, ` +
        `${sharedWithDownstream.length} shared dataset versions; the hub: a shared dataset version read by ${int(jobsOf(hub))} jobs, ` +
        `${int(s.downSize[hub] ?? 0)} members downstream over ${s.downPages[hub] ?? 0} closure pages`,
    );
    console.log(
      `  each case: up to ${ROOTS} roots (seeded sample), at most ${CASE_SECONDS} s, one lookup at a time, closure path and baseline alternating; maxNodes ${MAX_NODES}`,
    );

    const meter = new StoreMeter();
    const log = new RoundLog();
    const bench: Bench = { graph: new GraphStore(instrument(container, log), meter), meter, log };
    // Warm-up: JIT, connections.
    await runCase(bench, 'warm-up', 'upstream', 10, upRoots.slice(0, 5));
    await runCase(bench, 'warm-up', 'downstream', 10, downRoots.slice(0, 5));

    const results: CaseResult[] = [];
    const cases: Array<{ label: string; direction: 'upstream' | 'downstream'; roots: string[] }> = [
      { label: CASE.deepModels, direction: 'upstream', roots: upRoots },
      { label: CASE.anyNode, direction: 'upstream', roots: anyRoots },
      { label: CASE.upstreamHubs, direction: 'upstream', roots: upHubRoots },
      { label: CASE.deepOutputs, direction: 'downstream', roots: downRoots },
      { label: CASE.sharedData, direction: 'downstream', roots: sharedRoots },
    ];
    for (const c of cases)
      for (const depth of DEPTHS) {
        phase(`measuring: ${c.label}, depth ${depth}`);
        const r = await runCase(bench, c.label, c.direction, depth, c.roots);
        results.push(r);
        phase(
          `  ${r.closure.length} lookups: round trips ${spread(r.closure.map((x) => x.rounds))}, requests ${spread(r.closure.map((x) => x.requests))}, ` +
            `documents ${spread(r.closure.map((x) => x.documents))}${r.walked > 0 ? `, ${r.walked} walked` : ''}`,
        );
      }
    phase('measuring: the hub, downstream depth 10, page by page');
    const hubPaging = await pageThrough(bench, g.ids[hub] as string, 10, HUB_PAGES);
    const hubExpected = Object.entries(closureOf(g, hub, 'down').members).filter(([, d]) => d <= 10).length + 1;
    phase('done measuring');

    console.log('\n  round trips = sequential groups of overlapping Cosmos requests (every request timed); requests = StoreMeter;');
    console.log(
      '  nodes = mean nodes answered, closure path / baseline (paged: how many answers were cut at maxNodes, to be continued by cursor)\n',
    );
    console.log(
      table(
        [
          'lookup',
          'depth',
          'roots',
          'closure round trips',
          'baseline round trips',
          'closure requests',
          'baseline requests',
          'closure documents read',
          'baseline documents read',
          'closure p50/p95/max ms',
          'baseline p50/p95/max ms',
          'nodes',
        ],
        results.map((r) => [
          r.label,
          String(r.depth),
          String(Math.max(r.closure.length, r.baseline.length)),
          spread(r.closure.map((x) => x.rounds)),
          spread(r.baseline.map((x) => x.rounds)),
          spread(r.closure.map((x) => x.requests)),
          spread(r.baseline.map((x) => x.requests)),
          spread(r.closure.map((x) => x.documents)),
          spread(r.baseline.map((x) => x.documents)),
          latency(r.closure),
          latency(r.baseline),
          nodesCell(r),
        ]),
      ),
    );

    const closureOnly = results.filter((r) => r.walked === 0).flatMap((r) => r.closure.map((x) => x.rounds));
    if (closureOnly.length > 0 && Math.max(...closureOnly) === 3) {
      console.log(
        '\n  closure path, 2 round trips: lineage() reads the root node and its closure together (the ref names one node), then the\n' +
          "  page's nodes and links in parallel (1 when the root has nothing in that direction). The baseline reads the root with its\n" +
          '  adjacency, then one round per level.',
      );
    }
    const compared = results.reduce((a, r) => a + r.compared, 0);
    const same = results.reduce((a, r) => a + r.sameNodes, 0);
    console.log(`\n  answers: ${same} of ${compared} complete (not paged) answers have the same node set by both paths`);
    for (const r of results) {
      if (r.walked > 0) console.log(`  ${r.label}, depth ${r.depth}: ${r.walked} lookups answered by walking (answeredFrom: walk)`);
      for (const f of r.failures)
        console.log(
          `  ${r.label}, depth ${r.depth}: the ${f.path === 'closure' ? 'lineage() call' : 'baseline'} FAILED after ${fixed(f.ms / 1000, 1)} s: ${f.error.split('\n')[0]}`,
        );
      if (r.adjacencyMaybeCut > 0)
        console.log(
          `  ${r.label}, depth ${r.depth}: the baseline read adjacency from page 0 of ${r.adjacencyMaybeCut} closures with more distance-1 members than a page holds`,
        );
      if (r.baselineRoundsMismatch > 0)
        console.log(
          `  note: ${r.label} depth ${r.depth}: timed round trips differ from the baseline's own count in ${r.baselineRoundsMismatch} lookups`,
        );
    }
    const hubRounds = hubPaging.pages.map((x) => x.rounds);
    const hubNodes = hubPaging.ids.size;
    console.log(
      `\n  the hub (${int(s.downSize[hub] ?? 0)} members downstream, ${s.downPages[hub] ?? 0} closure pages), downstream depth 10, ${MAX_NODES} nodes an answer page, ` +
        `followed by cursor: ${hubPaging.pages.length} answer pages${hubPaging.complete ? ' (all)' : ''}, round trips per page ${spread(hubRounds)}, ` +
        `requests per page ${spread(hubPaging.pages.map((x) => x.requests))}, documents read per page ${spread(hubPaging.pages.map((x) => x.documents))}, answered from ${[...hubPaging.answeredFrom].join(' and ')}; ` +
        `${int(hubNodes)} distinct nodes${hubPaging.complete ? ` against ${int(hubExpected)} expected (root and members within depth 10, by BFS in memory): ${hubNodes === hubExpected && hubPaging.duplicates === 0 ? 'exact' : `NOT EXACT (${hubPaging.duplicates} repeated)`}` : ''}; ` +
        `p50/p95/max ms per page ${latency(hubPaging.pages)}`,
    );
    console.log(
      "  baseline adjacency = the distance-1 links of each frontier node's closure document (a whole closure document per frontier node,",
    );
    console.log('  larger than an adjacency list would be: its latency is if anything pessimistic; its round trips and requests are not)');
    if (RTT_MS > 0)
      console.log(
        `  BENCH_LOOKUP_RTT_MS=${RTT_MS}: every measured request waited ${RTT_MS} ms first, as if the store were across a network`,
      );
    if (!KEEPALIVE) console.log('  BENCH_LOOKUP_KEEPALIVE=0: the server closed every connection, so every request paid a TLS handshake');

    const usage = server.usage();
    const own = process.resourceUsage().maxRSS / 1024;
    const totalCpu = process.cpuUsage(cpu0);
    console.log(
      `\n  memory peak: bench process ${int(own)} MB, Cosmos server process ${usage.peakMb !== undefined ? `${int(usage.peakMb)} MB` : 'unknown'}; ` +
        `heap now ${mb(process.memoryUsage().heapUsed)}; CPU: bench ${fixed((totalCpu.user + totalCpu.system) / 1e6, 0)} s, server ${usage.cpuSeconds !== undefined ? fixed(usage.cpuSeconds, 0) : '?'} s; ` +
        `section 5 took ${fixed((performance.now() - started) / 1000, 1)} s`,
    );

    const byDepth = (label: string, pick: (r: CaseResult) => Sample[]) =>
      DEPTHS.map((d) => {
        const r = results.find((x) => x.label === label && x.depth === d);
        return r
          ? spread(
              pick(r).map((x) => x.rounds),
              0,
            )
          : '-';
      });
    const main = CASE.deepModels;
    const closureRounds = byDepth(main, (r) => r.closure);
    const baselineRounds = byDepth(main, (r) => r.baseline);
    const summary =
      `closure lookups: ${new Set(closureRounds).size === 1 ? `${closureRounds[0]} round trips at depth 1, 10 and 50` : `${closureRounds.join('/')} round trips at depth 1/10/50`}; ` +
      `hop-by-hop: ${baselineRounds.join('/')} (upstream from models at the end of deep pipelines, ${int(g.ids.length)} nodes)`;
    console.log(`\n  summary: ${summary}`);
    // By depth, for ordinary roots and hubs in each direction: the most round trips any lookup
    // answered from closures took (lookups that walked are counted in `walked`), and the mean
    // requests and documents read per lookup.
    const GROUPS = {
      upstream: [CASE.deepModels, CASE.anyNode],
      upstreamHubs: [CASE.upstreamHubs],
      downstream: [CASE.deepOutputs],
      downstreamHubs: [CASE.sharedData],
    } as const;
    const byGroup = (figure: (samples: Sample[]) => number | null, pick: (r: CaseResult) => Sample[], closuresOnly: boolean) =>
      Object.fromEntries(
        DEPTHS.map((d) => [
          `depth${d}`,
          Object.fromEntries(
            Object.entries(GROUPS).map(([group, labels]) => {
              const samples = results
                .filter((r) => r.depth === d && (labels as readonly string[]).includes(r.label) && (!closuresOnly || r.walked === 0))
                .flatMap(pick);
              return [group, samples.length === 0 ? null : figure(samples)];
            }),
          ),
        ]),
      );
    const most = (samples: Sample[]) => Math.max(...samples.map((x) => x.rounds));
    const meanOf = (key: 'requests' | 'documents') => (samples: Sample[]) => round(mean(samples.map((x) => x[key])));
    recordFigures({
      lookups: {
        nodes: g.ids.length,
        roundTrips: byGroup(most, (r) => r.closure, true),
        roundTripsHopByHop: byGroup(most, (r) => r.baseline, false),
        requestsPerLookup: byGroup(meanOf('requests'), (r) => r.closure, false),
        documentsPerLookup: byGroup(meanOf('documents'), (r) => r.closure, false),
        walked: results.reduce((a, r) => a + r.walked, 0) + hubPaging.pages.filter((x) => x.walked).length,
        hub: {
          membersDownstream: s.downSize[hub] ?? 0,
          closurePages: s.downPages[hub] ?? 0,
          answerPages: hubPaging.pages.length,
          roundTripsPerPage: hubRounds.length === 0 ? null : Math.max(...hubRounds),
          requestsPerPage: round(mean(hubPaging.pages.map((x) => x.requests))),
          documentsPerPage: round(mean(hubPaging.pages.map((x) => x.documents))),
          exact: hubPaging.complete ? hubNodes === hubExpected && hubPaging.duplicates === 0 : null,
        },
      },
      closures: {
        storageRatio: round(storageRatio),
        // What issue 17 first measured (3.7x): closures against the node documents alone.
        storageRatioToNodesOnly: round(toNodes),
        bytes: { nodes: loaded.bytes.nodes, links: 2 * loaded.bytes.edges, closures: loaded.bytes.closures },
        documents: loaded.closures,
        pagedClosures: paged(s.upPages) + paged(s.downPages),
        largestPageBytes: s.largestPageBytes,
      },
    });
    return summary;
  } finally {
    await server.stop();
  }
}

runSectionAlone(import.meta.url, '5', runLookupBench);
