import { timerFunction } from '../shared/api/app.js';
import type { CheckName } from '../shared/compliance/report.js';
import { getServices } from '../shared/composition.js';
import { complianceRun } from '../shared/compliance/complianceRun.js';

/**
 * One timer per check, each on its own schedule (NCRONTAB, UTC, from app settings). Each run
 * processes what changed since that check's last run; the report it writes carries the other
 * checks' latest sections. `runOnStartup` stays off: a scale-out or restart must not trigger runs.
 */
function complianceTimer(name: string, check: CheckName, schedule: string) {
  return timerFunction(name, {
    schedule,
    runOnStartup: false,
    useMonitor: true,
    handler: async (timer, context) => {
      if (timer.isPastDue) context.log(`${context.functionName}: running late (past due)`);
      await complianceRun((await getServices()).compliance, { checks: [check], trigger: `timer:${context.functionName}` }, (line) =>
        context.log(line),
      );
    },
  });
}

export const complianceLineage = complianceTimer('complianceLineage', 'lineage', '%COMPLIANCE_LINEAGE_SCHEDULE%');
export const complianceDrift = complianceTimer('complianceDrift', 'drift', '%COMPLIANCE_DRIFT_SCHEDULE%');
export const complianceRetention = complianceTimer('complianceRetention', 'retention', '%COMPLIANCE_RETENTION_SCHEDULE%');
export const compliancePii = complianceTimer('compliancePii', 'pii', '%COMPLIANCE_PII_SCHEDULE%');
export const complianceIntegrity = complianceTimer('complianceIntegrity', 'integrity', '%COMPLIANCE_INTEGRITY_SCHEDULE%');
export const complianceServing = complianceTimer('complianceServing', 'serving', '%COMPLIANCE_SERVING_SCHEDULE%');
export const complianceSchemaDrift = complianceTimer('complianceSchemaDrift', 'schemaDrift', '%COMPLIANCE_SCHEMA_DRIFT_SCHEDULE%');
