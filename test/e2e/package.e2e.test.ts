import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPackage, type PackageResult } from '../../infra/package/build.js';
import { fixtureText } from '../helpers/fixtures.js';
import { spawnHost, type SpawnedHost } from '../helpers/localHost.js';

/**
 * The deploy package (`npm run package`) run by the local host, next to a second local host on
 * the tsc build, both at once and both on their own defaults for the embedded services' ports.
 */
const PLACEHOLDER_WS =
  '/subscriptions/{subscription-id}/resourceGroups/{resource-group-name}/providers/Microsoft.MachineLearningServices/workspaces/{workspace-name}';
const WEBHOOK = '/runtime/webhooks/eventgrid?functionName=captureEventGrid';
// Only the app's own HTTP port is set (0: tests never bind a fixed port); the stores take their defaults.
const DEFAULT_SERVICE_PORTS = {
  PORT: '0',
  LOCAL_COSMOS_PORT: undefined,
  LOCAL_AZURITE_BLOB_PORT: undefined,
  LOCAL_AZURITE_QUEUE_PORT: undefined,
  LOCAL_AZURITE_TABLE_PORT: undefined,
};

let dir: string;
let pkg: PackageResult;
let bundled: SpawnedHost;
let built: SpawnedHost;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lineage-package-'));
  pkg = await buildPackage(join(dir, 'package'), join(dir, 'app.zip'));
  [bundled, built] = await Promise.all([
    // Keys are off, so every caller is key-only: auditor reach for the compliance report.
    spawnHost({ ...DEFAULT_SERVICE_PORTS, LOCAL_HOST_ENTRY: join(pkg.dir, 'index.js'), KEY_ONLY_ROLE: 'auditor' }),
    spawnHost(DEFAULT_SERVICE_PORTS),
  ]);
}, 180_000);
afterAll(async () => {
  await Promise.all([bundled?.stop(), built?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const cosmosPort = (h: SpawnedHost) => /Cosmos DB[^:]*: https:\/\/127\.0\.0\.1:(\d+)\//.exec(h.output())?.[1];

describe('deploy package', () => {
  it('holds the bundle, host.json and a package.json naming it, and nothing from node_modules', () => {
    expect(pkg.files).toEqual(expect.arrayContaining(['index.js', 'host.json', 'package.json', 'explorer/index.html']));
    expect(pkg.files.filter((f) => f.includes('node_modules'))).toEqual([]);
    expect(pkg.zipBytes).toBeLessThan(10 * 1024 * 1024);
  });

  it('two local hosts run side by side, each printing where its stores listen', () => {
    expect(bundled.output()).toContain(`app module: ${join(pkg.dir, 'index.js')}`);
    expect(cosmosPort(bundled)).toBeDefined();
    expect(cosmosPort(built)).toBeDefined();
    expect(cosmosPort(bundled)).not.toBe(cosmosPort(built));
    expect(bundled.url).not.toBe(built.url);
  });

  it('the bundle answers a lineage lookup and runs compliance', async () => {
    const post = (path: string, body: string) =>
      fetch(`${bundled.url}${path}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
      });
    expect((await post(WEBHOOK, fixtureText('azureml-eventgrid/eventgrid-ModelDeployed.json'))).status).toBe(202);
    const query = new URLSearchParams({ ref: 'azureml:sklearn_regression_model:1', workspace: PLACEHOLDER_WS, direction: 'downstream' });
    const lineage = await fetch(`${bundled.url}/api/lineage?${query.toString()}`);
    expect(lineage.status).toBe(200);
    const answer = (await lineage.json()) as { nodes: Array<{ kind: string; label: string }>; edges: Array<{ kind: string }> };
    expect(answer.nodes.map((n) => [n.kind, n.label]).sort()).toEqual([
      ['model', 'sklearn_regression_model:1'],
      ['service', 'my-sklearn-service'],
    ]);
    expect(answer.edges.map((e) => e.kind)).toEqual(['deployedTo']);

    const run = await post('/api/compliance/run?wait=200', JSON.stringify({ checks: ['lineage'] })); // the bundle's queue worker runs it
    expect(run.status).toBe(200);
    const report = (await run.json()) as { lineageCompleteness: { denominator: number } };
    expect(report.lineageCompleteness.denominator).toBeGreaterThanOrEqual(0);
    const latest = await fetch(`${bundled.url}/api/compliance/latest`);
    expect(latest.status).toBe(200);

    // The bundle serves the lineage explorer from the package's own copy of its assets.
    const page = await fetch(`${bundled.url}/api/explorer/lineage`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    const script = /<script[^>]*src="([^"]+)"/.exec(await page.text())?.[1] as string;
    expect((await fetch(`${bundled.url}${script}`)).status).toBe(200);

    // The other host has its own stores: the event sent to the bundle is not there.
    expect((await fetch(`${built.url}/api/lineage?${query.toString()}`)).status).toBe(404);
  });
});
