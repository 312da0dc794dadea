import { normalizeApprovalEvent } from './approvals.js';
import { azureMlEventType, normalizeAzureMlEvent } from './eventGrid/azureMlEvents.js';
import { parseEnvelope } from './eventGrid/envelope.js';
import { describeIssues, type ValidationIssue } from './issues.js';
import { normalizeMonitorRecord } from './monitor/categories.js';
import { restObservationSchema } from './rest/observation.js';
import { normalizeRestObservation } from './rest/resourceKinds.js';
import { normalizeOpenLineageEvent } from './openlineage/events.js';
import { followUps } from './followUps.js';
import type { EnrichmentMessage } from './enrichmentMessage.js';
import type { PredictionRequest } from './predictionRequest.js';
import type { GraphDelta } from '../graph/model.js';

/**
 * One normalizer per channel (`eventgrid`, `eventhubs`, `rest`, `approval`, `openlineage`), all answering in the same shape,
 * so capture, replay and the raw event log do not care where an event came from.
 */

export type Normalized =
  | {
      status: 'project';
      eventId: string;
      eventType: string;
      time: string;
      delta: GraphDelta;
      enrich: EnrichmentMessage[];
      predictionRequest?: PredictionRequest;
    }
  | { status: 'ignored'; eventId: string; eventType: string; reason: string }
  | { status: 'invalid'; eventId?: string; eventType?: string; reason: string; issues: ValidationIssue[] };

/** `hash` is the event's content hash, computed once by the caller. */
export function normalize(channel: string, raw: unknown, hash: string): Normalized {
  switch (channel) {
    case 'eventgrid':
      return fromEventGrid(raw);
    case 'eventhubs':
      return fromMonitorRecord(raw, hash);
    case 'rest':
      return fromRest(raw);
    case 'approval':
      return fromApproval(raw);
    case 'openlineage':
      return fromOpenLineage(raw, hash);
    default:
      return {
        status: 'invalid',
        reason: `unknown channel ${channel}`,
        issues: [{ path: 'channel', message: `unknown channel ${channel}` }],
      };
  }
}

function fromEventGrid(raw: unknown): Normalized {
  const envelope = parseEnvelope(raw);
  if (!envelope.ok)
    return { status: 'invalid', reason: `not a valid event envelope: ${describeIssues(envelope.issues)}`, issues: envelope.issues };
  const { id: eventId, type: eventType } = envelope.envelope;
  if (!azureMlEventType(eventType)) return { status: 'ignored', eventId, eventType, reason: `event type ${eventType} is not projected` };
  const normalized = normalizeAzureMlEvent(envelope.envelope);
  if (!normalized.ok)
    return {
      status: 'invalid',
      eventId,
      eventType,
      reason: `${eventType} could not be normalized: ${describeIssues(normalized.issues)}`,
      issues: normalized.issues,
    };
  const { delta, enrich } = normalized;
  return { status: 'project', eventId, eventType, time: envelope.envelope.time as string, delta, enrich };
}

function fromMonitorRecord(raw: unknown, hash: string): Normalized {
  const result = normalizeMonitorRecord(raw);
  // Resource-log records have no id of their own; the content hash stands in.
  const id = `record:${hash.slice('sha256:'.length, 'sha256:'.length + 32)}`;
  if (result.status === 'invalid')
    return {
      status: 'invalid',
      eventId: id,
      reason: `resource log record could not be normalized: ${describeIssues(result.issues)}`,
      issues: result.issues,
    };
  if (result.status === 'ignored') return { status: 'ignored', eventId: id, eventType: result.category, reason: result.reason };
  return {
    status: 'project',
    eventId: id,
    eventType: result.category,
    time: result.time,
    delta: result.delta,
    enrich: result.enrich,
    predictionRequest: result.predictionRequest,
  };
}

function fromRest(raw: unknown): Normalized {
  const parsed = restObservationSchema.safeParse(raw);
  // A REST observation is identified by what was fetched and, for resources without a time of their own, when.
  const eventId = parsed.success
    ? `GET ${parsed.data.request ?? parsed.data.armId}${parsed.data.fetchedAt ? ` @ ${parsed.data.fetchedAt}` : ''}`
    : undefined;
  const eventType = parsed.success ? `azureml-rest:${parsed.data.kind}` : undefined;
  const result = normalizeRestObservation(raw);
  if (!result.ok)
    return {
      status: 'invalid',
      eventId,
      eventType,
      reason: `REST resource could not be normalized: ${describeIssues(result.issues)}`,
      issues: result.issues,
    };
  return {
    status: 'project',
    eventId: eventId as string,
    eventType: eventType as string,
    time: result.time,
    delta: result.delta,
    enrich: result.enrich,
  };
}

/** A decision a pipeline posted (POST /api/approvals). */
function fromApproval(raw: unknown): Normalized {
  const result = normalizeApprovalEvent(raw);
  if (!result.ok)
    return {
      status: 'invalid',
      eventType: APPROVAL_EVENT_TYPE,
      reason: `approval could not be normalized: ${describeIssues(result.issues)}`,
      issues: result.issues,
    };
  const { event, delta } = result;
  return {
    status: 'project',
    eventId: `approval:${event.source}:${event.id}`,
    eventType: APPROVAL_EVENT_TYPE,
    time: event.at,
    delta,
    enrich: [],
  };
}

export const APPROVAL_EVENT_TYPE = 'aml-lineage:approval';

function fromOpenLineage(raw: unknown, hash: string): Normalized {
  const result = normalizeOpenLineageEvent(raw);
  if (!result.ok)
    return {
      status: 'invalid',
      // An event that is not valid has no id to trust; the content hash stands in.
      eventId: `openlineage:${hash.slice('sha256:'.length, 'sha256:'.length + 32)}`,
      eventType: `OpenLineage ${result.kind ?? 'event'}`,
      reason: `OpenLineage ${result.kind ?? 'event'} does not match the spec (2-0-2): ${describeIssues(result.issues)}`,
      issues: result.issues,
    };
  const { eventId, eventType, time, delta } = result;
  // Azure ML assets an event names are fetched, so their own links (the jobs that used them) arrive too.
  const assets = delta.nodes.map((n) => n.ref).filter((r) => r.kind === 'data' || r.kind === 'model');
  return { status: 'project', eventId, eventType, time, delta, enrich: followUps(assets) };
}
