import { registerFunctions, type AppFunction } from '../shared/api/app.js';
import { approvalsRoute } from './approvals.js';
import { captureEventGrid } from './captureEventGrid.js';
import { captureEventHub } from './captureEventHub.js';
import { chatopsSlackRoute } from './chatopsSlack.js';
import { chatopsTeamsRoute } from './chatopsTeams.js';
import { checkpointsKeyRoute } from './checkpointsKey.js';
import { checkpointsLatestRoute } from './checkpointsLatest.js';
import { complianceHoldsDeleteRoute, complianceHoldsListRoute, complianceHoldsPutRoute } from './complianceHolds.js';
import { complianceLatestRoute } from './complianceLatest.js';
import { complianceRunRoute } from './complianceRun.js';
import {
  complianceDrift,
  complianceIntegrity,
  complianceLineage,
  compliancePii,
  complianceRetention,
  complianceSchemaDrift,
  complianceServing,
} from './complianceTimers.js';
import { complianceTrendRoute } from './complianceTrend.js';
import { diffRoute } from './diff.js';
import { endpointTimelineRoute } from './endpointTimeline.js';
import { enrichResource } from './enrichResource.js';
import { eventByHashRoute } from './eventByHash.js';
import { evidenceRoute } from './evidence.js';
import { explorerRoute } from './explorer.js';
import { gateRoute } from './gate.js';
import { healthRoute } from './health.js';
import { identitiesRoute } from './identities.js';
import { impactRoute } from './impact.js';
import { lineageRoute } from './lineage.js';
import { lineageAsOfRoute } from './lineageAsOf.js';
import { maintainClosuresFunction } from './maintainClosures.js';
import { metricHistoryRoute } from './metricHistory.js';
import { openapiRoute } from './openapi.js';
import { openLineageRoute } from './openLineage.js';
import { operationStatusRoute } from './operationStatus.js';
import { predictionRequestRoute } from './predictionRequest.js';
import { projectFanOutPart } from './projectFanOutPart.js';
import { replayRoute } from './replay.js';
import { reproduceRoute } from './reproduce.js';
import { operationsWorker } from './runOperation.js';
import { searchRoute } from './search.js';
import { reconcileServingTimer } from './reconcileServing.js';
import { sequenceEventsTimer } from './sequenceEvents.js';
import { sequenceEventsRunRoute } from './sequenceEventsRun.js';

/**
 * The function app's entry point (package.json "main") and its one list of functions. Modules in
 * this folder only declare; what is listed here is registered, in Azure and in the local host
 * alike, and the OpenAPI document describes the routes among it. test/unit/functions.test.ts
 * fails when a module's declaration is missing from the list.
 */
export const FUNCTIONS: readonly AppFunction[] = [
  // Capture and enrichment
  captureEventGrid,
  captureEventHub,
  openLineageRoute,
  enrichResource,
  maintainClosuresFunction,
  projectFanOutPart,
  // Lookups
  lineageRoute,
  lineageAsOfRoute,
  endpointTimelineRoute,
  predictionRequestRoute,
  impactRoute,
  diffRoute,
  metricHistoryRoute,
  gateRoute,
  reproduceRoute,
  searchRoute,
  evidenceRoute,
  identitiesRoute,
  // Approvals
  approvalsRoute,
  // Compliance
  complianceRunRoute,
  complianceLatestRoute,
  complianceTrendRoute,
  complianceHoldsListRoute,
  complianceHoldsPutRoute,
  complianceHoldsDeleteRoute,
  complianceLineage,
  complianceDrift,
  complianceRetention,
  compliancePii,
  complianceIntegrity,
  complianceServing,
  complianceSchemaDrift,
  reconcileServingTimer,
  // Evidence log
  sequenceEventsTimer,
  sequenceEventsRunRoute,
  checkpointsLatestRoute,
  checkpointsKeyRoute,
  eventByHashRoute,
  // Operations, chat-ops and meta
  replayRoute,
  operationStatusRoute,
  operationsWorker,
  chatopsSlackRoute,
  chatopsTeamsRoute,
  healthRoute,
  openapiRoute,
  // The lineage explorer (web application)
  explorerRoute,
];

registerFunctions(FUNCTIONS);
