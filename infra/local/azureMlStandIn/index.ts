/**
 * Local stand-in for the Azure ML management REST API. See server.ts for the entry point,
 * sampleWorkspace.ts for what it serves, faults.ts for injected failures and control.ts for the
 * `/_standin/...` routes.
 */
export { startAzureMlStandIn, type AzureMlStandIn, type AzureMlStandInOptions } from './server.js';
export { createSampleWorkspace, SAMPLE_IDS, type SampleWorkspace } from './sampleWorkspace.js';
export { SampleWorkspaceState, type DeploymentSpec, type ModelVersionSpec } from './state.js';
export { FaultControl, FAULT_STATUSES, type ActiveFault, type FaultRule, type FaultStatus } from './faults.js';
export { SampleRuns, runBody, type SampleRun } from './mlflow.js';
export { CONTROL_ROUTES, type RecordedRequest } from './control.js';
export { API_VERSION, armJson, armResource, armTime, armTypeOf, type ArmResource, type SystemData } from './arm.js';
