import type { EnrichmentMessage } from '../enrichmentMessage.js';
import type { PredictionRequest } from '../predictionRequest.js';
import type { WorkspaceId } from '../../graph/keys.js';
import { emptyDelta, type GraphDelta } from '../../graph/model.js';
import type { ValidationIssue } from '../issues.js';
import { workspaceOf } from '../payload.js';
import type { MonitorRecord } from './fields.js';

export type MonitorResult =
  | {
      status: 'projected';
      category: string;
      /** Event time as written by the source. */
      time: string;
      /** Canonical (lower-case) ARM id of the workspace; of the registry for registry records. */
      workspace: string;
      delta: GraphDelta;
      enrich: EnrichmentMessage[];
      predictionRequest?: PredictionRequest;
    }
  | { status: 'ignored'; category: string; reason: string }
  | { status: 'invalid'; issues: ValidationIssue[] };

export type CategoryHandler = (record: MonitorRecord, category: string) => MonitorResult;

export function ignored(category: string, reason: string): MonitorResult {
  return { status: 'ignored', category, reason };
}

export function invalid(path: string, message: string): MonitorResult {
  return { status: 'invalid', issues: [{ path, message }] };
}

export function projected(
  category: string,
  record: MonitorRecord,
  workspace: string,
  parts: { delta?: GraphDelta; enrich?: EnrichmentMessage[]; predictionRequest?: PredictionRequest },
): MonitorResult {
  const result: MonitorResult = {
    status: 'projected',
    category,
    time: record.time,
    workspace,
    delta: parts.delta ?? emptyDelta(),
    enrich: parts.enrich ?? [],
  };
  if (parts.predictionRequest) result.predictionRequest = parts.predictionRequest;
  return result;
}

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
