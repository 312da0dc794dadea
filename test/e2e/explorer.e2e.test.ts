import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECTIONS } from '../../shared/compliance/sections.js';
import { launchBrowser, screenshot, type Browser } from '../helpers/browser.js';
import {
  AS,
  ENDPOINT,
  FUNCTION_KEY,
  REGISTRY_MODEL_URI,
  S,
  WS,
  endpointWrite,
  seedSample,
  ADMIN,
  startApi,
  until,
  type Api,
} from './api/harness.js';

/**
 * The lineage explorer in a real browser (Debian's Chromium through playwright-core) against the
 * local host as `npm start` runs it, with function keys on and the sample workspace delivered as
 * `npm run sample` does; then traffic moves from blue to green on 1 June and a compliance run
 * writes a report. Assertions read the page's text equivalents, as a screen reader would.
 */
let api: Api;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  api = await startApi();
  await seedSample(api);
  await api.standInControl('setTraffic', {
    endpoint: 'credit-scoring',
    traffic: { blue: 0, green: 100 },
    at: '2024-06-01T00:00:00.0000000+00:00',
  });
  await api.eventHub([endpointWrite('2024-06-01T00:00:01Z')]);
  await until(
    'green to serve credit-default:3 after the traffic change',
    () => api.get('/api/lineage/as-of', { endpoint: ENDPOINT, at: '2024-06-02T00:00:00Z' }),
    (a) => a.text.includes('credit-scoring/green') && a.text.includes('credit-train-20240501'),
  );
  // A compliance run is queued; ?wait answers with the report. Behind Entra an admin is a function key plus Lineage.Admin.
  const run = await api.request('POST', '/api/compliance/run', { wait: '200' }, { ...ADMIN, body: '{}' });
  expect(run.status, run.text).toBe(200);

  browser = await launchBrowser();
  page = browser.page;
  // Injected by the browser driver, not the page: counts what the Content-Security-Policy refused.
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => (window.cspViolations ??= []).push(e.violatedDirective + ' ' + e.blockedURI));",
  );
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await api?.stop();
});

const view = (path: string, params: Record<string, string> = {}) =>
  `${api.host.url}/api/explorer${path}${Object.keys(params).length > 0 ? `?${new URLSearchParams(params).toString()}` : ''}`;

async function drawn(): Promise<void> {
  await page.locator('.graph-canvas[data-state="drawn"]').first().waitFor({ timeout: 30_000 });
}

/** The graph's links as the text equivalent lists them: "kind label -edgeKind-> kind label". */
async function linksAsText(): Promise<string[]> {
  const rows = page.getByRole('table', { name: 'Links' }).locator('tbody tr');
  // A row's innerText is its cells joined by tabs.
  return (await rows.allInnerTexts())
    .map((row) => row.split('\t'))
    .map(([from, link, to]) => `${from} -${(link ?? '').split(' ')[0]}-> ${to}`);
}

/** The graph's nodes as the text equivalent lists them: "kind label (notes)". */
async function nodesAsText(): Promise<string[]> {
  const rows = page.getByRole('table', { name: 'Nodes' }).locator('tbody tr');
  // A row's innerText is its cells joined by tabs.
  return (await rows.allInnerTexts())
    .map((row) => row.split('\t'))
    .map(([kind, label, notes]) => `${kind} ${label}${notes ? ` (${notes})` : ''}`);
}

/** Evaluated in the page (the tests compile without the DOM's types). */
const inPage = <T>(expression: string): Promise<T> => page.evaluate<T>(expression);

describe('the explorer, served by the function app', () => {
  it('is one page for every view, with a strict CSP, no inline script, and hashed assets cached for a year', async () => {
    const res = await fetch(view('/lineage', { ref: 'x' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script has a src
    expect(html).not.toMatch(/\b(?:src|href)="(?:https?:)?\/\//); // nothing from another origin
    const script = /<script[^>]*src="([^"]+)"/.exec(html)?.[1] as string;
    const asset = await fetch(`${api.host.url}${script}`, { headers: { 'accept-encoding': 'br' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(view('/nothing-here'))).status).toBe(404);
    expect((await fetch(`${api.host.url}/api/explorer/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  it('search credit-default:3, give the function key once (kept for the tab), and see its data, commit, environment and job upstream', async () => {
    await page.goto(view(''));
    await page.getByRole('searchbox', { name: /Find/ }).fill('credit-default:3');
    await page.getByRole('button', { name: 'Search' }).click();
    // Function keys are on: the first call is refused, and the page asks for a key.
    const dialog = page.getByRole('dialog', { name: 'Function key needed' });
    await dialog.waitFor();
    await dialog.getByLabel('Function key').fill(FUNCTION_KEY);
    await dialog.getByRole('button', { name: 'Use this key' }).click();
    await page.getByRole('table', { name: 'Search results' }).waitFor();
    expect(await inPage('[Object.values(sessionStorage), Object.values(localStorage), document.cookie]')).toEqual([[FUNCTION_KEY], [], '']);
    expect(page.url()).not.toContain(FUNCTION_KEY);

    await page.getByRole('link', { name: 'credit-default:3', exact: true }).click();
    await drawn();
    expect(new URL(page.url()).pathname).toBe('/api/explorer/lineage');
    expect(await linksAsText()).toEqual(
      expect.arrayContaining([
        'job credit-train-20240501 -produced-> model credit-default:3',
        'data credit-applications:3 -inputOf-> job credit-prep-20240501',
        'commit github.com/contoso/credit-models@9c1e4f7a2b3d -commitOf-> job credit-train-20240501',
        'environment lightgbm-env:5 -environmentOf-> job credit-train-20240501',
        'code credit-src:7 -codeOf-> job credit-train-20240501',
      ]),
    );
    expect(await nodesAsText()).toEqual(
      expect.arrayContaining(['model credit-default:3 (root)', 'compute cpu-cluster (referenced, not yet seen)']),
    );
    await screenshot(page, 'explorer-lineage-full');
    // The picture in the README: the drawing with a node's details beside it.
    await page.getByRole('button', { name: 'Details of job credit-train-20240501' }).click();
    await page.getByRole('complementary', { name: 'Details of job credit-train-20240501' }).waitFor();
    await page.waitForTimeout(300); // the drawing refits to the narrower canvas
    await screenshot(page, 'explorer-lineage', false);
  });

  it('walks the drawing with the keyboard and shows a node with the provenance of each fact', async () => {
    const canvas = page.locator('.graph-canvas');
    await canvas.focus();
    await page.keyboard.press('Home');
    const panel = page.getByRole('complementary', { name: /^Details of / });
    await expect.poll(() => panel.getAttribute('aria-label')).toBe('Details of model credit-default:3');
    await page.keyboard.press('ArrowLeft'); // upstream: the job that produced it
    await expect.poll(() => panel.getAttribute('aria-label')).toBe('Details of job credit-train-20240501');
    const facts = panel.getByRole('table', { name: 'Facts with provenance' });
    const parameters = facts.locator('tr', { has: page.getByRole('rowheader', { name: 'parameters' }) });
    expect(await parameters.locator('td').allTextContents()).toEqual([
      expect.stringContaining('"learning_rate":"0.05"'),
      expect.stringMatching(/^2024-05-01T\S+ sha256:[0-9a-f]{12}…$/),
    ]);
    expect(await panel.getByRole('table', { name: 'Provenance events' }).locator('tbody tr').count()).toBeGreaterThan(0);

    // A model says whether it serves traffic now: after the move to green, credit-default:3 does.
    await page.getByRole('button', { name: 'Details of model credit-default:3' }).click();
    await expect
      .poll(() => panel.getByRole('region', { name: 'Serving status' }).textContent())
      .toContain('Serving now: credit-scoring/green (100 % of traffic)');
  });

  it('expands a node in place with its neighbours', async () => {
    const before = (await nodesAsText()).length;
    await page.getByRole('button', { name: 'Expand model credit-default:3' }).click();
    await expect.poll(async () => (await nodesAsText()).some((n) => n.startsWith('deployment credit-scoring/green'))).toBe(true);
    await drawn();
    expect((await nodesAsText()).length).toBeGreaterThan(before);
    expect(await linksAsText()).toContain('model credit-default:3 -deployedTo-> deployment credit-scoring/green');
  });

  it('continues a partial answer from its cursor', async () => {
    await page.goto(view('/lineage', { ref: S.models.v3, direction: 'upstream', depth: '6', limit: '4' }));
    await drawn();
    expect(await nodesAsText()).toHaveLength(4);
    const more = page.getByRole('button', { name: /^Load more/ });
    while (await more.isVisible()) {
      const before = (await nodesAsText()).length;
      await more.click();
      await expect.poll(async () => (await nodesAsText()).length).toBeGreaterThan(before);
    }
    expect(await linksAsText()).toContain('data credit-applications:3 -inputOf-> job credit-prep-20240501');
  });

  it('says how many nodes the caller’s roles hide', async () => {
    // As App Service authentication would add it: a reader of another workspace only.
    await browser.context.setExtraHTTPHeaders({ 'x-ms-client-principal': AS.readerOfOther });
    try {
      await page.goto(view('/lineage', { ref: REGISTRY_MODEL_URI, direction: 'downstream', depth: '5' }));
      await drawn();
      expect(await nodesAsText()).toEqual(['model credit-baseline:1 (root; referenced, not yet seen)']);
      expect(await page.getByRole('status').filter({ hasText: 'hidden' }).innerText()).toMatch(
        /^\d+ nodes? hidden: they belong to workspaces your roles do not cover\.$/,
      );
    } finally {
      await browser.context.setExtraHTTPHeaders({});
    }
  });

  it('exports the drawn graph as PNG, SVG and JSON', async () => {
    await page.goto(view('/lineage', { ref: S.models.v3, direction: 'upstream', depth: '6' }));
    await drawn();
    const save = async (name: string) => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name }).click()]);
      return { file: download.suggestedFilename(), body: readFileSync(await download.path()) };
    };
    const png = await save('Export PNG');
    expect(png.file).toBe('lineage-model_credit-default_3.png');
    expect(png.body.subarray(1, 4).toString()).toBe('PNG');
    const svg = await save('Export SVG');
    expect(svg.body.toString()).toMatch(/^<svg[\s\S]*>credit-train-20240501</);
    const json = JSON.parse((await save('Export JSON')).body.toString()) as { nodes: Array<{ label: string }>; edges: unknown[] };
    expect(json.nodes.map((n) => n.label)).toEqual(expect.arrayContaining(['credit-default:3', 'credit-applications:3']));
    expect(json.edges.length).toBeGreaterThan(0);
  });

  it('the endpoint view shows blue serving on 2024-05-20 and green on 2024-06-02, with the changes over time', async () => {
    await page.goto(view('/endpoint', { endpoint: ENDPOINT, at: '2024-05-20T00:00:00Z' }));
    const serving = page.getByRole('table', { name: 'Serving at this moment' });
    const rows = async () => (await serving.locator('tbody tr').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim());
    await serving.waitFor();
    expect(await rows()).toEqual([expect.stringMatching(/^credit-scoring\/blue 100 % credit-default:2 /)]);
    await drawn();
    expect(await nodesAsText()).toContain('deployment credit-scoring/blue (serving 100 %)');
    await screenshot(page, 'explorer-endpoint-2024-05-20');

    await page.getByLabel('At (UTC)').fill('2024-06-02T00:00:00');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(rows).toEqual([expect.stringMatching(/^credit-scoring\/green 100 % credit-default:3 /)]);
    expect(new URL(page.url()).searchParams.get('at')).toBe('2024-06-02T00:00:00.000Z');
    const changes = await page.getByRole('table', { name: 'Changes over time' }).locator('tbody tr').allInnerTexts();
    expect(changes.join('\n')).toMatch(/2024-06-01T00:00:00[^\n]*credit-scoring\/green: 100 % of traffic/);
    await drawn();
    await screenshot(page, 'explorer-endpoint-2024-06-02');

    // The slider's step buttons move between recorded changes: back before 1 June, blue again.
    await page.getByRole('button', { name: 'Previous change' }).click();
    await page.getByRole('button', { name: 'Previous change' }).click();
    await expect.poll(rows).toEqual([expect.stringMatching(/^credit-scoring\/blue 100 %/)]);
  });

  it('the diff view puts two model versions side by side and marks what changed in words', async () => {
    await page.goto(view('/diff', { from: 'azureml:credit-default:2', to: 'azureml:credit-default:3', workspace: WS }));
    const table = page.getByRole('table', { name: 'Differences' });
    await table.waitFor();
    const row = async (aspect: string) => (await table.locator(`tr[data-aspect="${aspect}"]`).innerText()).replace(/\s+/g, ' ').trim();
    expect(await row('data')).toMatch(/^data ≠ changed credit-applications:2 .*credit-applications:3/);
    expect(await row('code')).toMatch(/^code ≠ changed credit-src:6 .*credit-src:7/);
    // Metrics of each side's MLflow run, by value.
    expect(await row('metrics')).toMatch(/^metrics ≠ changed .*auc=0\.781.* auc=0\.803/);
    expect(await row('environment')).toBe('environment = same the same on both sides');
    await screenshot(page, 'explorer-diff');
  });

  it('the impact view marks the deployment and endpoint serving a dependent model now', async () => {
    await page.goto(view('/impact', { ref: S.models.v3 }));
    await drawn();
    expect(await nodesAsText()).toEqual(
      expect.arrayContaining([
        'deployment credit-scoring/green (serving now 100 %)',
        expect.stringMatching(/^endpoint .* \(live endpoint\)$/),
      ]),
    );
    expect(await page.getByRole('status').filter({ hasText: 'live endpoint' }).first().innerText()).toContain(
      '1 deployment(s) serving now',
    );
  });

  it('the compliance view draws the trend per section and follows a gap to its lineage', async () => {
    await page.goto(view('/compliance'));
    await page.locator('.trend[data-state="drawn"] svg.trend-chart').waitFor();
    expect(await page.locator('svg.trend-chart [class^="runs-"]').count()).toBe(SECTIONS.length); // one marker group per section
    const summary = (await page.getByRole('table', { name: 'Summary' }).innerText()).replace(/\s+/g, ' ');
    expect(summary).toContain('Lineage completeness 2 / 3 66.7 %');
    await screenshot(page, 'explorer-compliance');

    const gaps = page.getByRole('table', { name: 'Lineage completeness gaps' });
    await gaps.getByRole('link', { name: 'credit-baseline:1' }).click();
    await drawn();
    const url = new URL(page.url());
    expect([url.pathname, url.searchParams.get('direction')]).toEqual(['/api/explorer/lineage', 'both']);
    expect(await nodesAsText()).toContain('model credit-baseline:1 (root; referenced, not yet seen)');
    expect(await linksAsText()).toContain('model credit-baseline:1 -inputOf-> job credit-train-20240501');
  });

  it('forgets the key on request, and nothing the page did broke its Content-Security-Policy', async () => {
    await page.getByRole('button', { name: 'Forget it' }).click();
    expect(await inPage('Object.keys(sessionStorage)')).toEqual([]);
    expect(await inPage('window.cspViolations ?? []')).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
