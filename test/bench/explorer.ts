import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { launchBrowser } from '../helpers/browser.js';
import { eventHubsConnection, ROOT, spawnHost } from '../helpers/localHost.js';
import { fixed, heading, int, median, runSectionAlone, table } from './report.js';
import { prng } from './stream.js';

/**
 * Section 9: the lineage explorer in Debian's Chromium (playwright-core), against the local host.
 *
 *   weight       bytes of what the first view loads (HTML, script, style), raw, gzip and brotli as
 *                served, and of the parts loaded on demand (the trend chart, SVG export);
 *   first graph  from navigation to the first graph drawn (the page's `explorer:first-graph` mark),
 *                for the upstream of credit-default:3 after `npm run sample`, with an empty browser
 *                cache (a fresh profile each time) and then reloaded with a warm one;
 *   500 nodes    layout time (dagre, the page's `explorer:layout` measure) and time to drawn for a
 *                generated 500-node, 1,000-link lineage answer. The page's request for it is answered
 *                by the browser driver, so the figure is the page's own work, not the store's.
 *
 * BENCH_EXPLORER_RUNS sets the repetitions (default 5).
 */
const RUNS = Number(process.env.BENCH_EXPLORER_RUNS ?? 5);
const DIST = resolve(ROOT, 'dist', 'explorer');
const run = promisify(execFile);

function weights(): string[][] {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const initial = ['index.html', ...[...html.matchAll(/(?:src|href)="\/api\/explorer\/([^"]+)"/g)].map((m) => m[1] as string)];
  const lazy = readdirSync(join(DIST, 'assets'))
    .filter((f) => /\.(?:js|css)$/.test(f) && !initial.includes(`assets/${f}`))
    .map((f) => `assets/${f}`);
  const row = (label: string, files: string[]) => {
    const bodies = files.map((f) => readFileSync(join(DIST, f)));
    const sum = (size: (b: Buffer) => number) => bodies.reduce((n, b) => n + size(b), 0);
    return [
      label,
      int(sum((b) => b.length) / 1024),
      int(sum((b) => gzipSync(b, { level: 9 }).length) / 1024),
      int(sum((b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length) / 1024),
    ];
  };
  return [
    row('first view (HTML, script, style)', initial),
    ...lazy.map((f) => row(`on demand: ${f.replace(/^assets\/|-[\w-]{8}\.js$/g, '')}`, [f])),
  ];
}

/**
 * A lineage answer of about `count` nodes shaped like a workspace's history: pipelines of 3-8 steps,
 * each step reading the previous step's output and writing the next (storage, finally a model), the
 * steps of a pipeline sharing an environment, code version and commit, every step on one compute
 * cluster, and half the pipelines taking the previous pipeline's model as a parent.
 */
function generatedAnswer(count: number) {
  const random = prng(20240501);
  const nodes: Array<Record<string, unknown> & { id: string }> = [];
  const edges: Array<Record<string, unknown>> = [];
  const add = (kind: string) => {
    const i = nodes.length;
    nodes.push({
      id: `${kind}-${i.toString(16).padStart(32, '0')}`,
      kind,
      key: `/generated/${kind}/${i}`,
      label: `${kind}-${i}:${1 + (i % 7)}`,
      workspace: '/subscriptions/s/resourcegroups/r/providers/microsoft.machinelearningservices/workspaces/bench',
      placeholder: false,
      properties: {},
      history: {},
      provenance: { facts: {}, events: [] },
    });
    return nodes[i]?.id as string;
  };
  const link = (from: string, kind: string, to: string) =>
    edges.push({ id: `${kind}~${from}~${to}`, kind, from, to, properties: {}, history: {}, provenance: [] });
  const compute = add('compute');
  let parent: string | undefined;
  while (nodes.length < count) {
    const [environment, code, commit] = [add('environment'), add('code'), add('commit')];
    let previous = add('data');
    const steps = 3 + Math.floor(random() * 6);
    for (let s = 0; s < steps && nodes.length < count; s++) {
      const job = add('job');
      link(previous, 'inputOf', job);
      for (const [from, kind] of [
        [environment, 'environmentOf'],
        [code, 'codeOf'],
        [commit, 'commitOf'],
        [compute, 'computeOf'],
      ] as const)
        link(from, kind, job);
      if (parent && s === 0 && random() < 0.5) link(parent, 'inputOf', job);
      previous = add(s === steps - 1 ? 'model' : 'storage');
      link(job, 'produced', previous);
    }
    parent = previous;
  }
  return { root: parent ?? compute, direction: 'upstream', depth: 50, nodes, edges, partial: false };
}

/** Milliseconds from navigation to the first drawn graph, and the layout's own time, read from the page's timeline. */
const TIMINGS = `(() => {
  const first = performance.getEntriesByName('explorer:first-graph')[0];
  const layouts = performance.getEntriesByName('explorer:layout');
  return { firstGraph: first ? first.startTime : null, layout: layouts.length ? layouts[layouts.length - 1].duration : null };
})()`;

export async function runExplorerBench(): Promise<void> {
  console.log(heading('9. Lineage explorer in the browser'));
  statSync(join(DIST, 'index.html')); // built by `npm run bench` (npm run build:explorer)
  console.log(table(['Page weight, KB', 'raw', 'gzip', 'brotli'], weights()));

  const host = await spawnHost();
  try {
    await run(process.execPath, [join(ROOT, 'infra', 'local', 'sample.mjs')], {
      env: { ...process.env, LINEAGE_URL: host.url, EVENTHUB_CONNECTION: eventHubsConnection(host) },
    });
    const model =
      '/subscriptions/6f1a0c7e-2b7d-4c1e-9a51-3d2f1e0b9c41/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/ws-credit/models/credit-default/versions/3';
    const url = `${host.url}/api/explorer/lineage?${new URLSearchParams({ ref: model, direction: 'upstream', depth: '6' }).toString()}`;

    const cold: number[] = [];
    const warm: number[] = [];
    let nodes = 0;
    for (let i = 0; i < RUNS; i++) {
      const browser = await launchBrowser();
      try {
        await browser.page.goto(url);
        await browser.page.locator('.graph-canvas[data-state="drawn"]').waitFor({ timeout: 60_000 });
        cold.push((await browser.page.evaluate<{ firstGraph: number }>(TIMINGS)).firstGraph);
        nodes = Number(await browser.page.locator('.graph-canvas').getAttribute('data-nodes'));
        await browser.page.reload();
        await browser.page.locator('.graph-canvas[data-state="drawn"]').waitFor({ timeout: 60_000 });
        warm.push((await browser.page.evaluate<{ firstGraph: number }>(TIMINGS)).firstGraph);
      } finally {
        await browser.close();
      }
    }

    const answer = generatedAnswer(500);
    const layout: number[] = [];
    const drawn: number[] = [];
    const browser = await launchBrowser();
    try {
      await browser.page.route('**/api/lineage?**', (route) => route.fulfill({ json: answer }));
      for (let i = 0; i < RUNS; i++) {
        await browser.page.goto(`${host.url}/api/explorer/lineage?ref=${answer.root}&depth=50&i=${i}`);
        await browser.page.locator('.graph-canvas[data-state="drawn"]').waitFor({ timeout: 120_000 });
        const t = await browser.page.evaluate<{ firstGraph: number; layout: number }>(TIMINGS);
        layout.push(t.layout);
        drawn.push(t.firstGraph);
      }
    } finally {
      await browser.close();
    }

    console.log(
      table(
        ['In Chromium (headless), ms', 'median', 'min', 'max'],
        [
          [
            `first graph, sample (${nodes} nodes), empty cache`,
            fixed(median(cold), 0),
            fixed(Math.min(...cold), 0),
            fixed(Math.max(...cold), 0),
          ],
          [`first graph, sample, warm cache`, fixed(median(warm), 0), fixed(Math.min(...warm), 0), fixed(Math.max(...warm), 0)],
          [
            `layout, ${answer.nodes.length} nodes / ${answer.edges.length} links`,
            fixed(median(layout), 0),
            fixed(Math.min(...layout), 0),
            fixed(Math.max(...layout), 0),
          ],
          [
            `first graph, ${answer.nodes.length} nodes (navigation to drawn)`,
            fixed(median(drawn), 0),
            fixed(Math.min(...drawn), 0),
            fixed(Math.max(...drawn), 0),
          ],
        ],
      ),
    );
    // Wall-clock times: on a shared machine they grow with what else runs, so say how busy it was.
    console.log(
      `  ${RUNS} runs each; target for the 500-node layout: under 2,000 ms; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} (1/5/15 min) on ${cpus().length} CPU(s).`,
    );
  } finally {
    await host.stop();
  }
}

runSectionAlone(import.meta.url, '9', runExplorerBench);
