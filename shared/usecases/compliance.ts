import { publishComplianceGauges } from '../compliance/telemetry.js';
import { runCompliance, type RunOptions } from '../compliance/runCompliance.js';
import { SECTIONS, type ComplianceReport } from '../compliance/report.js';
import type { Services } from '../composition.js';

/**
 * A compliance run as the timers and `POST /api/compliance/run` start it: the checks, the report
 * in Blob Storage, then the figures as OpenTelemetry gauges. Telemetry failing never fails the
 * run: the report is the record, the gauges are a view of it.
 */
export async function complianceRun(services: Services, options: RunOptions, log: (line: string) => void): Promise<ComplianceReport> {
  const report = await runCompliance(services.compliance, options);
  log(
    `compliance ${report.runId} (${report.mode}, ${report.checksRun.join('+')}): ` +
      SECTIONS.map((s) => `${s} ${report[s].numerator}/${report[s].denominator}`).join(', ') +
      `; ${report.cost.cosmosRequests} Cosmos requests, ${report.cost.documentsRead} documents read`,
  );
  try {
    await publishComplianceGauges(
      report,
      services.settings.APPLICATIONINSIGHTS_CONNECTION_STRING,
      services.settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING,
    );
  } catch (error) {
    log(`compliance ${report.runId}: gauges not exported: ${error instanceof Error ? error.message : String(error)}`);
  }
  return report;
}
