import type { EnrichmentMessage } from '../enrichmentMessage.js';
import type { PredictionRequest } from '../predictionRequest.js';
import { emptyDelta, type GraphDelta } from '../../graph/model.js';
import type { ValidationIssue } from '../issues.js';
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
