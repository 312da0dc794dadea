import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportSchema, type ComplianceReport } from '../../shared/compliance/report.js';
import { complianceGauges, publishComplianceGauges, telemetryModulesLoaded } from '../../shared/compliance/telemetry.js';

const tally = (numerator: number, denominator: number, ratio: number | null) => ({
  numerator,
  denominator,
  ratio,
  computedAt: '2024-05-01T10:00:00Z',
  items: [],
});

const report: ComplianceReport = reportSchema.parse({
  schemaVersion: 1,
  runId: 'run-1',
  generatedAt: '2024-05-01T10:00:00Z',
  trigger: 'timer',
  mode: 'full',
  window: null,
  checksRun: ['lineage', 'drift', 'retention', 'pii'],
  lineageCompleteness: { ...tally(3, 4, 0.75), byWorkspace: {}, byOwner: {} },
  deploymentTraceability: { ...tally(1, 1, 1), byWorkspace: {}, byOwner: {} },
  // Nothing to measure: the ratio is null, not 0 or 1.
  driftAttribution: { ...tally(0, 0, null), attributed: [] },
  retention: { ...tally(9, 10, 0.9), policies: [], activeHolds: [] },
  pii: { ...tally(5, 5, 1), byKind: {} },
  integrity: { ...tally(7, 8, 0.875), treeSize: 6, verifiedCheckpoint: 6 },
  freshness: { ...tally(2, 3, 2 / 3), staleAfterHours: 24, p50Seconds: 60, p95Seconds: 90_000, maxSeconds: 90_000 },
  // Written before the check ran: nothing to measure yet.
  servingMatchesTraining: tally(0, 0, null),
  schemaDrift: {
    ...tally(9, 10, 0.9),
    bySource: [
      {
        channel: 'eventgrid',
        source: 'Microsoft.MachineLearningServices.RunCompleted',
        sourceKind: 'event-type',
        events: 10,
        clean: 9,
        withUnexpectedFields: 1,
        deadLettered: 0,
        unexpectedFields: [{ path: 'data.newField', events: 1 }],
        deadLetterFields: [],
      },
    ],
  },
  cost: { cosmosRequests: 42, documentsRead: 314, byCheck: {} },
});

describe('complianceGauges', () => {
  it('emits ratio, numerator and denominator per section, freshness ages, schema drift per source, and the run cost', () => {
    const gauges = complianceGauges(report);
    const byName = (name: string) => gauges.filter((g) => g.name === name).map((g) => [g.attributes['section'], g.value]);
    expect(byName('lineage.compliance.ratio')).toEqual([
      ['lineageCompleteness', 0.75],
      ['deploymentTraceability', 1],
      ['retention', 0.9],
      ['pii', 1],
      ['integrity', 0.875],
      ['freshness', 2 / 3],
      ['schemaDrift', 0.9],
    ]);
    expect(byName('lineage.compliance.numerator')).toEqual([
      ['lineageCompleteness', 3],
      ['deploymentTraceability', 1],
      ['driftAttribution', 0],
      ['retention', 9],
      ['pii', 5],
      ['integrity', 7],
      ['freshness', 2],
      ['servingMatchesTraining', 0],
      ['schemaDrift', 9],
    ]);
    expect(byName('lineage.compliance.denominator')).toEqual([
      ['lineageCompleteness', 4],
      ['deploymentTraceability', 1],
      ['driftAttribution', 0],
      ['retention', 10],
      ['pii', 5],
      ['integrity', 8],
      ['freshness', 3],
      ['servingMatchesTraining', 0],
      ['schemaDrift', 10],
    ]);
    expect(gauges.filter((g) => g.name.startsWith('lineage.compliance.run.'))).toEqual([
      { name: 'lineage.compliance.run.cosmos_requests', value: 42, attributes: {} },
      { name: 'lineage.compliance.run.documents_read', value: 314, attributes: {} },
    ]);
    expect(gauges.filter((g) => g.name === 'lineage.compliance.freshness.age_seconds')).toEqual([
      { name: 'lineage.compliance.freshness.age_seconds', value: 60, attributes: { quantile: 'p50' } },
      { name: 'lineage.compliance.freshness.age_seconds', value: 90_000, attributes: { quantile: 'p95' } },
      { name: 'lineage.compliance.freshness.age_seconds', value: 90_000, attributes: { quantile: 'max' } },
    ]);
    const source = { channel: 'eventgrid', source: 'Microsoft.MachineLearningServices.RunCompleted', source_kind: 'event-type' };
    expect(gauges.filter((g) => g.name.startsWith('lineage.compliance.schema_drift.'))).toEqual([
      { name: 'lineage.compliance.schema_drift.unexpected_fields', value: 1, attributes: source },
      { name: 'lineage.compliance.schema_drift.dead_lettered', value: 0, attributes: source },
    ]);
    expect(gauges).toHaveLength(7 + 9 + 9 + 3 + 2 + 2);
  });
});

describe('publishComplianceGauges without a connection string', () => {
  it('is disabled and loads nothing in this process', async () => {
    expect(await publishComplianceGauges(report, undefined)).toBe('disabled');
    expect(await publishComplianceGauges(report, '')).toBe('disabled');
    expect(telemetryModulesLoaded()).toBe(false);
  });
});

/**
 * ESM has no inspectable module cache, so the compiled module runs in a child `node` whose
 * module.register() resolve hook (it runs on the loader thread, hence a synchronous write to fd 2)
 * prints every URL it resolves. The same harness runs with and without a connection string, so the
 * "not loaded" result is checked against a run where the package demonstrably is loaded.
 */
const COMPILED = fileURLToPath(new URL('../../dist/shared/compliance/telemetry.js', import.meta.url));
const FAKE_CONNECTION_STRING = 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/';

const HOOKS = `import { writeSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  writeSync(2, 'RESOLVED ' + result.url + '\\n');
  return result;
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;
const CHILD = `
const started = performance.now();
const telemetry = await import(process.env.TELEMETRY_MODULE);
const imported = performance.now();
let outcome;
try {
  outcome = await telemetry.publishComplianceGauges(JSON.parse(process.env.REPORT_JSON), process.env.CONNECTION_STRING || undefined);
} catch (error) {
  outcome = 'rejected: ' + error.message;
}
const settled = performance.now();
console.log(JSON.stringify({ outcome, loaded: telemetry.telemetryModulesLoaded(), importMs: imported - started, publishMs: settled - imported }));
// The SDK's timers and sockets are none of this check's business.
process.exit(0);
`;

interface ChildResult {
  outcome: string;
  loaded: boolean;
  importMs: number;
  publishMs: number;
  resolved: string[];
}

function runChild(connectionString: string): ChildResult {
  const child = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, '--input-type=module', '-e', CHILD],
    {
      env: {
        ...process.env,
        TELEMETRY_MODULE: pathToFileURL(COMPILED).href,
        REPORT_JSON: JSON.stringify(report),
        CONNECTION_STRING: connectionString,
      },
      encoding: 'utf8',
      timeout: 30_000,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (child.status !== 0) throw new Error(`child exited with ${child.status ?? child.signal}: ${child.stderr}`);
  const lastLine = child.stdout.trim().split('\n').at(-1) ?? '';
  const resolved = child.stderr.split('\n').flatMap((line) => (line.startsWith('RESOLVED ') ? [line.slice('RESOLVED '.length)] : []));
  return { ...(JSON.parse(lastLine) as Omit<ChildResult, 'resolved'>), resolved };
}

const fromPackage = (resolved: string[], pkg: string) => resolved.filter((url) => url.includes(`/node_modules/${pkg}/`));

describe('publishComplianceGauges in a fresh process (compiled module)', () => {
  beforeAll(() => {
    if (!existsSync(COMPILED)) throw new Error(`${COMPILED} is missing: run \`npm run build\` first.`);
  });

  it('without a connection string: disabled, and neither telemetry package is even resolved', () => {
    const run = runChild('');
    console.log(`telemetry.js import ${run.importMs.toFixed(1)} ms, publish (disabled) ${run.publishMs.toFixed(1)} ms`);
    expect(run.outcome).toBe('disabled');
    expect(run.loaded).toBe(false);
    // The hook works in this run: it saw the module itself and its zod dependency.
    expect(run.resolved).toContain(pathToFileURL(COMPILED).href);
    expect(fromPackage(run.resolved, 'zod')).not.toHaveLength(0);
    expect(fromPackage(run.resolved, '@azure/monitor-opentelemetry')).toEqual([]);
    expect(fromPackage(run.resolved, '@opentelemetry/api')).toEqual([]);
  });

  it('with a connection string: the same harness sees the package loaded, and the call settles', () => {
    // The endpoint refuses connections, so this shows loading and settling, not a successful export.
    const run = runChild(FAKE_CONNECTION_STRING);
    console.log(
      `telemetry.js import ${run.importMs.toFixed(1)} ms, publish (enabled, incl. SDK import and failed export) ${run.publishMs.toFixed(1)} ms -> ${run.outcome}`,
    );
    expect(run.loaded).toBe(true);
    expect(fromPackage(run.resolved, '@azure/monitor-opentelemetry')).not.toHaveLength(0);
    expect(fromPackage(run.resolved, '@opentelemetry/api')).not.toHaveLength(0);
    expect(run.outcome).toMatch(/^(published|rejected: )/);
    expect(run.publishMs).toBeLessThan(20_000);
  });
});
