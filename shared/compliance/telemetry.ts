import { SECTIONS, type ComplianceReport } from './report.js';

/**
 * Publishes the compliance report's figures as OpenTelemetry gauges to Azure Monitor.
 *
 * `@azure/monitor-opentelemetry` pulls in the whole OpenTelemetry Node SDK (well over a hundred
 * modules), so it and `@opentelemetry/api` are only ever loaded with a dynamic `import()` once a
 * connection string is known. Without one this module costs nothing but itself. Do not add a static
 * import of either package here, not even `import type` (types are taken from the dynamic import).
 */

export interface GaugeSink {
  record(name: string, value: number, attributes: Record<string, string>): void;
  flush(): Promise<void>;
}

export interface ComplianceGauge {
  name: string;
  value: number;
  attributes: Record<string, string>;
}

/** One gauge per figure: every section's ratio (if there is one), numerator and denominator, freshness ages, schema drift per source, plus the run's cost. */
export function complianceGauges(report: ComplianceReport): ComplianceGauge[] {
  const gauges: ComplianceGauge[] = [];
  for (const section of SECTIONS) {
    const { ratio, numerator, denominator } = report[section];
    // A null ratio means "nothing to measure"; emitting 0 or 1 would read as failing or passing.
    if (ratio !== null) gauges.push({ name: 'lineage.compliance.ratio', value: ratio, attributes: { section } });
    gauges.push({ name: 'lineage.compliance.numerator', value: numerator, attributes: { section } });
    gauges.push({ name: 'lineage.compliance.denominator', value: denominator, attributes: { section } });
  }
  // Freshness: how old our latest observation of what serves is (seconds), at the median, p95 and worst.
  const { p50Seconds, p95Seconds, maxSeconds } = report.freshness;
  for (const [quantile, value] of [
    ['p50', p50Seconds],
    ['p95', p95Seconds],
    ['max', maxSeconds],
  ] as const) {
    if (value !== null) gauges.push({ name: 'lineage.compliance.freshness.age_seconds', value, attributes: { quantile } });
  }
  // Schema drift per source (metric M10): events with fields we did not expect, and dead-lettered ones.
  for (const s of report.schemaDrift.bySource) {
    const attributes = { channel: s.channel, source: s.source, source_kind: s.sourceKind };
    gauges.push({ name: 'lineage.compliance.schema_drift.unexpected_fields', value: s.withUnexpectedFields, attributes });
    gauges.push({ name: 'lineage.compliance.schema_drift.dead_lettered', value: s.deadLettered, attributes });
  }
  gauges.push({ name: 'lineage.compliance.run.cosmos_requests', value: report.cost.cosmosRequests, attributes: {} });
  gauges.push({ name: 'lineage.compliance.run.documents_read', value: report.cost.documentsRead, attributes: {} });
  return gauges;
}

let modulesLoaded = false;
/** Memoized: `useAzureMonitor` replaces the process-wide OpenTelemetry providers, so it runs once per process. */
let sink: Promise<GaugeSink> | undefined;

/** Whether `@azure/monitor-opentelemetry` and `@opentelemetry/api` have been imported (for tests). */
export function telemetryModulesLoaded(): boolean {
  return modulesLoaded;
}

async function azureMonitorSink(connectionString: string, entraId: boolean): Promise<GaugeSink> {
  const [{ useAzureMonitor }, { metrics }] = await Promise.all([import('@azure/monitor-opentelemetry'), import('@opentelemetry/api')]);
  modulesLoaded = true;
  // Application Insights with local auth disabled (as infra/azure deploys it) accepts only Entra ID
  // tokens: the app's managed identity, which holds Monitoring Metrics Publisher.
  const credential = entraId ? new (await import('@azure/identity')).DefaultAzureCredential() : undefined;
  useAzureMonitor({ azureMonitorExporterOptions: { connectionString, credential } });
  // After useAzureMonitor: the metrics API has no proxy provider, so a meter taken earlier would stay a no-op.
  const meter = metrics.getMeter('lineage-compliance');
  // Synchronous gauges (`createGauge`, @opentelemetry/api >= 1.9) rather than observable ones: the
  // Azure Monitor exporter asks for delta temporality, so a recorded value is exported once, at the
  // next collection. An observable gauge's callback would re-report the last report's figures every
  // export interval for as long as the Functions host keeps the process alive.
  const instruments = new Map<string, ReturnType<typeof meter.createGauge>>();
  return {
    record(name, value, attributes) {
      let gauge = instruments.get(name);
      if (!gauge) instruments.set(name, (gauge = meter.createGauge(name)));
      gauge.record(value, attributes);
    },
    async flush() {
      // The API's MeterProvider interface has no forceFlush, but the SDK provider useAzureMonitor
      // registers does. Flushing now matters: a timer invocation may end (and the host freeze or
      // recycle the process) long before the periodic reader's next export.
      const provider = metrics.getMeterProvider() as { forceFlush?: unknown };
      if (typeof provider.forceFlush === 'function') await (provider.forceFlush as () => Promise<void>).call(provider);
    },
  };
}

/**
 * Records the report's gauges and flushes them to Azure Monitor; 'disabled' (and nothing loaded)
 * without a connection string.
 *
 * Nothing is logged here: if setting up or flushing fails, the promise rejects and the caller, which
 * knows the run, logs it; the report itself is unaffected. Note that the OpenTelemetry SDK's metric
 * reader does not reject on a failed export (it hands the error to its own diag logger), so
 * 'published' means "recorded and flushed", not "accepted by the ingestion endpoint".
 */
export async function publishComplianceGauges(
  report: ComplianceReport,
  connectionString: string | undefined,
  authentication?: string,
): Promise<'disabled' | 'published'> {
  if (!connectionString) return 'disabled';
  // The first connection string wins for the life of the process (it comes from app settings, so it does not change).
  sink ??= azureMonitorSink(connectionString, /authorization=aad/i.test(authentication ?? ''));
  const target = await sink;
  for (const gauge of complianceGauges(report)) target.record(gauge.name, gauge.value, gauge.attributes);
  await target.flush();
  return 'published';
}
