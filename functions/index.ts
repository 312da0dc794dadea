/**
 * The function app's entry point (package.json "main"). Importing a module registers its
 * function; Azure and the local host both load this one list.
 */
import './captureEventGrid.js';
import './captureEventHub.js';
import './chatopsSlack.js';
import './chatopsTeams.js';
import './complianceHolds.js';
import './complianceLatest.js';
import './complianceRun.js';
import './complianceTimers.js';
import './diff.js';
import './enrichResource.js';
import './evidence.js';
import './gate.js';
import './health.js';
import './impact.js';
import './lineage.js';
import './lineageAsOf.js';
import './openapi.js';
import './replay.js';
import './requests.js';
import './search.js';
