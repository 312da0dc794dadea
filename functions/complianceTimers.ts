import { app, type InvocationContext, type Timer } from '@azure/functions';
import type { CheckName } from '../shared/compliance/report.js';
import { getServices } from '../shared/composition.js';
import { complianceRun } from '../shared/usecases/compliance.js';

/**
 * One timer per check, each on its own schedule (NCRONTAB, UTC, from app settings). Each run
 * processes what changed since that check's last run; the report it writes carries the other
 * checks' latest sections. `runOnStartup` stays off: a scale-out or restart must not trigger runs.
 */
function complianceTimer(check: CheckName) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    if (timer.isPastDue) context.log(`${context.functionName}: running late (past due)`);
    await complianceRun(await getServices(), { checks: [check], trigger: `timer:${context.functionName}` }, (line) => context.log(line));
  };
}

app.timer('complianceLineage', {
  schedule: '%COMPLIANCE_LINEAGE_SCHEDULE%',
  runOnStartup: false,
  useMonitor: true,
  handler: complianceTimer('lineage'),
});
app.timer('complianceDrift', {
  schedule: '%COMPLIANCE_DRIFT_SCHEDULE%',
  runOnStartup: false,
  useMonitor: true,
  handler: complianceTimer('drift'),
});
app.timer('complianceRetention', {
  schedule: '%COMPLIANCE_RETENTION_SCHEDULE%',
  runOnStartup: false,
  useMonitor: true,
  handler: complianceTimer('retention'),
});
app.timer('compliancePii', {
  schedule: '%COMPLIANCE_PII_SCHEDULE%',
  runOnStartup: false,
  useMonitor: true,
  handler: complianceTimer('pii'),
});
