import type { WorkspaceId } from '../../graph/keys.js';
import { workspaceOf } from '../payload.js';
import type { MonitorRecord } from './fields.js';
import { invalid, type MonitorResult } from './result.js';

const WORKSPACE_EXPECTED =
  'expected the ARM id of an Azure ML workspace or of a resource in one (/subscriptions/…/providers/Microsoft.MachineLearningServices/workspaces/…)';

/** The record's workspace, or the `invalid` result that says why there is none. */
export function recordWorkspace(r: MonitorRecord): { ws: WorkspaceId; rest: string[] } | MonitorResult {
  if (!r.resourceId) return invalid('resourceId', `required: ${WORKSPACE_EXPECTED}`);
  return workspaceOf(r.resourceId) ?? invalid('resourceId', WORKSPACE_EXPECTED);
}

export function isResult(v: { ws: WorkspaceId } | MonitorResult): v is MonitorResult {
  return 'status' in v;
}
