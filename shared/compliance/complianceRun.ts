import { SECTIONS, type ComplianceReport } from './report.js';
import { runCompliance, type ComplianceDeps, type RunOptions } from './runCompliance.js';
import { publishComplianceGauges } from './telemetry.js';

export interface ComplianceRunDeps extends ComplianceDeps {
  /** Where the gauges go (Application Insights); without a connection string they are not exported. */
  telemetry: { connectionString?: string; authenticationString?: string };
}

/**
 * A compliance run as the timers and `POST /api/compliance/run` start it: the checks, the report
 * in Blob Storage, then the figures as OpenTelemetry gauges. Telemetry failing never fails the
 * run: the report is the record, the gauges are a view of it.
 */
export async function complianceRun(deps: ComplianceRunDeps, options: RunOptions, log: (line: string) => void): Promise<ComplianceReport> {
  const report = await runCompliance(deps, options);
  log(
    `compliance ${report.runId} (${report.mode}, ${report.checksRun.join('+')}): ` +
      SECTIONS.map((s) => `${s} ${report[s].numerator}/${report[s].denominator}`).join(', ') +
      `; ${report.cost.cosmosRequests} Cosmos requests, ${report.cost.documentsRead} documents read`,
  );
  try {
    await publishComplianceGauges(report, deps.telemetry.connectionString, deps.telemetry.authenticationString);
  } catch (error) {
    log(`compliance ${report.runId}: gauges not exported: ${error instanceof Error ? error.message : String(error)}`);
  }
  return report;
}
