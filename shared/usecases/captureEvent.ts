import type { ValidationIssue } from '../ingest/issues.js';
import { sniffEnvelope } from '../ingest/eventGrid/envelope.js';
import type { Provenance } from '../graph/model.js';
import type { DeadLetterStore } from '../store/deadLetters.js';
import type { ClosureSink } from '../store/closureQueue.js';
import type { EnrichmentSink } from '../store/enrichmentQueue.js';
import type { EventLog } from '../store/eventLog.js';
import type { FanOutSink } from '../store/fanOutQueue.js';
import type { GraphStore } from '../store/graphStore.js';
import type { PredictionRequestStore } from '../store/predictionRequestStore.js';
import { withRetry } from '../store/retry.js';
import { isPermanentStoreRefusal } from '../errors.js';
import { contentHash } from '../util/canonicalJson.js';
import { redactEvent } from '../privacy/redactEvent.js';
import { MAX_ENRICHMENT_HOPS } from '../ingest/enrichmentMessage.js';
import { registryFollowUps, type RegistryDirectory } from '../ingest/followUps.js';
import { toInstant } from '../util/time.js';
import type { BoundedMap } from '../util/boundedMap.js';
import { applyDelta, applyDeltas, type ApplyResult } from './applyDelta.js';
import { normalize, type Normalized } from '../ingest/normalize.js';
import { splitDelta } from '../graph/split.js';
import type { GraphDelta } from '../graph/model.js';
import {
  approvalsFromRules,
  DEFAULT_APPROVAL_RULES,
  identityFieldsOf,
  parseApprovalRules,
  type ApprovalRule,
} from '../ingest/approvals.js';
import type { IdentitySink } from '../store/identityVault.js';
import { publishOpenLineage, type LineagePublisher } from './publishOpenLineage.js';

export interface CaptureDeps {
  eventLog: EventLog;
  graph: GraphStore;
  deadLetters: DeadLetterStore;
  now: () => Date;
  /** Key of the keyed hashes that replace caller identities before anything is written. */
  redactionKey: string;
  /** Where follow-up REST fetches go; without it, nothing is enriched. */
  enrichments?: EnrichmentSink;
  /**
   * Registries whose assets are fetched when an event names them (`azureml://registries/NAME/…` names
   * no subscription or resource group; AML_REGISTRIES lists them); without it, only registry assets
   * named by their ARM id are.
   */
  registries?: RegistryDirectory;
  /**
   * The closure stage's queue (CLOSURE_QUEUE), nudged when an event stores new links; without it,
   * closures wait for the next run of the stage, and lookups walk meanwhile.
   */
  closures?: ClosureSink;
  /** Where traced prediction requests go (Q3); without it, traffic-log records are logged raw only. */
  predictionRequests?: PredictionRequestStore;
  /** Rules that read approvals from model tags, properties and stage (APPROVAL_RULES); the defaults without. */
  approvalRules?: readonly ApprovalRule[];
  /** Where the people replaced by identity hashes are kept, encrypted; without it, only their hashes remain. */
  identities?: IdentitySink;
  /** Where the jobs an event touched go out as OpenLineage RunEvents (OPENLINEAGE_EVENTHUB_*); without it, nowhere. */
  publisher?: LineagePublisher;
  /**
   * Where the parts of an event's graph work beyond the first go (FANOUT_QUEUE, graph/split.ts);
   * without it, every part is projected inline (the CLI and benches, which answer no webhook).
   */
  fanOut?: FanOutSink;
  /**
   * Evidence this process logged and projected, and whose links it followed (content hash to event
   * id and type), so an enrichment answer fetched again unchanged costs no request: what the event
   * log's conflict would say. A bounded memory; an answer it forgot costs that one request.
   */
  captured?: BoundedMap<string, { eventId: string; eventType: string }>;
}

const DEFAULT_RULES = parseApprovalRules(DEFAULT_APPROVAL_RULES);

export type CaptureOutcome =
  | {
      status: 'projected';
      hash: string;
      eventId: string;
      eventType: string;
      duplicate: boolean;
      /** Graph writes done inline: the first part only when the rest was queued. */
      writes: ApplyResult;
      /** Enrichment requests queued. */
      enqueued: number;
      /** Parts of the graph work queued to FANOUT_QUEUE (0: all of it was done inline). */
      queuedParts: number;
    }
  | { status: 'ignored'; hash: string; eventId: string; eventType: string; duplicate: boolean; reason: string }
  | {
      status: 'dead-lettered';
      hash: string;
      eventId?: string;
      eventType?: string;
      duplicate: boolean;
      reason: string;
      issues: ValidationIssue[];
    };

export interface CaptureOptions {
  /** Channel that delivered the event: 'eventgrid' (default), 'eventhubs' (one resource-log record), 'rest'. */
  channel?: string;
  /** Channel metadata kept with the raw event, e.g. Event Hubs partition and sequence number. */
  delivery?: Record<string, unknown>;
  /** When the event was first received; set by replays so provenance keeps the original time. */
  receivedAt?: string;
  /** Enqueue REST follow-ups (default). Replays re-project evidence and do not fetch again. */
  followUp?: boolean;
  /**
   * Project and follow the links of evidence already in the log (default true: an event redelivered
   * after a crash between logging and projecting still gets projected and followed up). Enrichment
   * passes false unless the queue is redelivering: a REST answer identical to one logged before was
   * projected and followed then, or its own message is still in the queue and will be, so an
   * answer that did not change costs one request (the log's conflict) and touches no graph document.
   */
  redoDuplicates?: boolean;
  /** REST fetches that led to this capture; follow-ups carry one more. */
  hops?: number;
}

/**
 * Deepest nesting an event may have. Cosmos DB refuses documents nested deeper than 128 levels,
 * and the raw log and the graph wrap event values a few levels down (`body`, `facts.NAME.value`);
 * real Azure ML events and Azure Monitor records are under ten. Deeper events are dead-lettered
 * whole, with this reason, instead of failing every delivery.
 */
export const MAX_EVENT_DEPTH = 100;

/** What is stored of a received event: personal data and secrets replaced, and its content hash. */
export interface PreparedEvent {
  raw: unknown;
  hash: string;
  /** The people replaced by identity hashes (hash -> clear value), for the identity vault. */
  found: Map<string, string>;
  /** Nesting depth of `raw` (jsonDepth), counted by the redaction walk: events too deep to store are refused. */
  depth: number;
}

/** The fields approval rules name people in, worked out once per rule set rather than once per event. */
const PERSON_FIELDS = new WeakMap<readonly ApprovalRule[], string[]>();
function personFieldsOf(rules: readonly ApprovalRule[]): string[] {
  let fields = PERSON_FIELDS.get(rules);
  if (fields === undefined) {
    fields = identityFieldsOf(rules);
    PERSON_FIELDS.set(rules, fields);
  }
  return fields;
}

/**
 * Redacts and hashes a received event. Pure and total for any JSON value, at any size or depth:
 * the Event Hubs fallback dead letter relies on it, so it must not fail where capture failed.
 */
export function prepareEvent(received: unknown, deps: Pick<CaptureDeps, 'redactionKey' | 'approvalRules'>): PreparedEvent {
  // Identities, personal data and secrets never reach a store, not even the raw log: what is kept
  // and hashed is the redacted event (keyed hashes, so equal values still join).
  const found = new Map<string, string>();
  const personKeys = personFieldsOf(deps.approvalRules ?? DEFAULT_RULES);
  const { value: raw, depth } = redactEvent(received, deps.redactionKey, { personKeys, found });
  return { raw, hash: contentHash(raw), found, depth };
}

/**
 * One received event, end to end: log it raw, validate it, project it into the graph, or
 * dead-letter it with the reason. Validation failures complete normally (a retry would not fix
 * them); store failures that outlast the retries throw, so the platform redelivers.
 */
export async function captureEvent(deps: CaptureDeps, received: unknown, options: CaptureOptions = {}): Promise<CaptureOutcome> {
  return capturePrepared(deps, prepareEvent(received, deps), options);
}

/** `captureEvent` for an event already prepared (the Event Hubs path keeps it for its fallback letter). */
export async function capturePrepared(deps: CaptureDeps, prepared: PreparedEvent, options: CaptureOptions = {}): Promise<CaptureOutcome> {
  const logged = await logPrepared(deps, prepared, options);
  return 'status' in logged ? logged : ((await projectLogged(deps, [logged]))[0] as CaptureOutcome);
}

/**
 * An event logged raw and found to project, whose graph work is still to do: `projectLogged` does
 * it, for several such events in one graph write when they arrived together (an enrichment
 * message's answers).
 */
export interface LoggedEvent {
  raw: unknown;
  hash: string;
  normalized: Extract<Normalized, { status: 'project' }>;
  duplicate: boolean;
  receivedAt: string;
  sniffed: ReturnType<typeof sniffEnvelope>;
  options: CaptureOptions;
}

/** What became of an event before its projection: a final outcome, or what is left to do. */
export type Logged = CaptureOutcome | LoggedEvent;

/**
 * `captureEvent` up to the projection: identities sealed, the event logged raw and validated, or
 * dead-lettered, ignored, or found already done; otherwise what `projectLogged` is to project.
 */
export async function logEvent(deps: CaptureDeps, received: unknown, options: CaptureOptions = {}): Promise<Logged> {
  return logPrepared(deps, prepareEvent(received, deps), options);
}

async function logPrepared(deps: CaptureDeps, { raw, hash, found, depth }: PreparedEvent, options: CaptureOptions): Promise<Logged> {
  // This process logged and projected the same evidence, and followed its links: what the event
  // log's conflict would say, known without asking it.
  const done = options.redoDuplicates === false ? deps.captured?.get(hash) : undefined;
  if (done) return { status: 'projected', hash, ...done, duplicate: true, writes: noWrites(), enqueued: 0, queuedParts: 0 };
  const { channel = 'eventgrid' } = options;
  // People named in identity fields are sealed in the identity vault before anything is stored,
  // so every identity hash a store holds can be revealed.
  const vault = deps.identities;
  if (vault && found.size > 0) await withRetry(() => vault.remember(found), 'sealing identities');
  const receivedAt = options.receivedAt ?? deps.now().toISOString();
  const sniffed = channel === 'eventgrid' ? sniffEnvelope(raw) : {};
  // Not logged raw either: no store holds it but the dead letters (Blob Storage has no depth limit).
  if (depth > MAX_EVENT_DEPTH)
    return refuse(
      deps,
      { raw, hash, sniffed, receivedAt, options },
      `nested ${depth} levels deep, deeper than ${MAX_EVENT_DEPTH} levels (the store keeps documents up to 128)`,
      false,
    );
  try {
    const logged = await logAndNormalize(deps, { raw, hash }, options, sniffed, receivedAt);
    remember(deps, logged);
    return logged;
  } catch (error) {
    return refusedByStore(deps, { raw, hash, sniffed, receivedAt, options }, error);
  }
}

/** An event the store refused, or one too deep to store: dead-lettered whole, with the reason. */
async function refuse(
  deps: CaptureDeps,
  { raw, hash, sniffed, receivedAt, options }: Pick<LoggedEvent, 'raw' | 'hash' | 'sniffed' | 'receivedAt' | 'options'>,
  message: string,
  duplicate: boolean,
): Promise<CaptureOutcome> {
  const { channel = 'eventgrid', delivery } = options;
  const reason = `The event is ${message}; it was not projected.`;
  const issues = [{ path: '(event)', message }];
  const { id: eventId, type: eventType } = sniffed;
  await withRetry(
    () => deps.deadLetters.put({ hash, channel, receivedAt, reason, issues, eventId, eventType, delivery, body: raw }),
    'writing a dead letter',
  );
  return { status: 'dead-lettered', hash, eventId, eventType, duplicate, reason, issues };
}

/**
 * Too large, or malformed to the store: every redelivery would fail the same way (only transient
 * failures are worth one), so the event completes as a dead letter that says so.
 */
async function refusedByStore(
  deps: CaptureDeps,
  event: Pick<LoggedEvent, 'raw' | 'hash' | 'sniffed' | 'receivedAt' | 'options'>,
  error: unknown,
): Promise<CaptureOutcome> {
  if (!isPermanentStoreRefusal(error)) throw error;
  return refuse(deps, event, `refused by the store, which no retry changes (${error.message.slice(0, 300)})`, false);
}

/** A projected event is known done in this process (`captured`), so the same evidence again costs nothing. */
function remember(deps: CaptureDeps, logged: Logged): void {
  if ('status' in logged && logged.status === 'projected')
    deps.captured?.set(logged.hash, { eventId: logged.eventId, eventType: logged.eventType });
}

const noWrites = (): ApplyResult => ({ created: 0, updated: 0, unchanged: 0, newLinks: 0 });

async function logAndNormalize(
  deps: CaptureDeps,
  { raw, hash }: Pick<PreparedEvent, 'raw' | 'hash'>,
  options: CaptureOptions,
  sniffed: ReturnType<typeof sniffEnvelope>,
  receivedAt: string,
): Promise<Logged> {
  const { channel = 'eventgrid', delivery } = options;
  let appends = 0;
  const logged = await withRetry(() => {
    appends++;
    return deps.eventLog.append({
      id: hash.replace(/^sha256:/, ''),
      pk: hash.replace(/^sha256:/, ''),
      hash,
      channel,
      receivedAt,
      eventId: sniffed.id,
      eventType: sniffed.type,
      eventSource: sniffed.source,
      eventTime: sniffed.time,
      delivery,
      body: raw,
    });
  }, 'appending to the event log');
  const duplicate = logged === 'duplicate';
  // Duplicates are projected and followed again unless the caller says they need not be; but a
  // duplicate found on a retried append may be this call's own write whose answer was lost, so it
  // is redone (found by the fault test: 20% of answers reset after the work).
  const redo = !duplicate || options.redoDuplicates !== false || appends > 1;

  const normalized = normalize(channel, raw, hash);
  if (normalized.status === 'invalid') {
    const { reason, issues } = normalized;
    const eventId = normalized.eventId ?? sniffed.id;
    const eventType = normalized.eventType ?? sniffed.type;
    await withRetry(
      () => deps.deadLetters.put({ hash, channel, receivedAt, reason, issues, eventId, eventType, delivery, body: raw }),
      'writing a dead letter',
    );
    return { status: 'dead-lettered', hash, eventId, eventType, duplicate, reason, issues };
  }
  if (normalized.status === 'ignored') {
    // Kept in the raw log so a later version can project it by replaying; not an error.
    return { status: 'ignored', hash, eventId: normalized.eventId, eventType: normalized.eventType, duplicate, reason: normalized.reason };
  }
  if (!redo) {
    const { eventId, eventType } = normalized;
    return { status: 'projected', hash, eventId, eventType, duplicate, writes: noWrites(), enqueued: 0, queuedParts: 0 };
  }
  return { raw, hash, normalized, duplicate, receivedAt, sniffed, options };
}

/**
 * The graph work of logged events: their first parts in one graph write (so documents they share
 * are read and written once), then each one's queued or inline remaining parts, closure nudge,
 * prediction request, OpenLineage announcement and follow-ups. An outcome for each, in order.
 */
export async function projectLogged(deps: CaptureDeps, events: readonly LoggedEvent[]): Promise<CaptureOutcome[]> {
  const work = events.map((event) => {
    const { channel = 'eventgrid', delivery } = event.options;
    const { hash, receivedAt } = event;
    const { delta, prov } = projectionOf(deps, event.normalized, { channel, hash, receivedAt, delivery });
    // An event naming many resources is cut into parts: the first is projected here, the rest are
    // queued, so the answer comes back in time whatever the size (Event Grid waits 30 seconds).
    const [first, ...rest] = splitDelta(delta);
    return { event, prov, first: first as GraphDelta, rest };
  });
  let firstWrites: ApplyResult[];
  try {
    const what = events.map((e) => `${e.normalized.eventType} ${e.normalized.eventId}`).join(', ');
    firstWrites = await withRetry(
      () =>
        applyDeltas(
          deps.graph,
          work.map(({ first, prov }) => ({ delta: first, prov })),
        ),
      `projecting ${what}`,
    );
  } catch (error) {
    return Promise.all(events.map((event) => refusedByStore(deps, event, error)));
  }
  const outcomes: CaptureOutcome[] = [];
  for (const [i, { event, prov, first, rest }] of work.entries()) {
    try {
      const outcome = await finishProjection(deps, event, prov, first, rest, firstWrites[i] as ApplyResult);
      remember(deps, outcome);
      outcomes.push(outcome);
    } catch (error) {
      outcomes.push(await refusedByStore(deps, event, error));
    }
  }
  return outcomes;
}

/** What follows an event's first part: its other parts, the closure nudge, prediction requests, OpenLineage and follow-ups. */
async function finishProjection(
  deps: CaptureDeps,
  { hash, normalized, duplicate, receivedAt, options }: LoggedEvent,
  prov: Provenance,
  first: GraphDelta,
  rest: readonly GraphDelta[],
  writes: ApplyResult,
): Promise<CaptureOutcome> {
  const { channel = 'eventgrid' } = options;
  // Links created by any attempt (a retried attempt finds them there): the closure stage's work.
  let newLinks = writes.newLinks;
  const project = async (part: GraphDelta, what: string): Promise<ApplyResult> =>
    withRetry(async () => {
      const result = await applyDelta(deps.graph, part, prov);
      newLinks += result.newLinks;
      return result;
    }, what);
  const fanOut = deps.fanOut;
  if (rest.length > 0 && fanOut) {
    const parts = rest.length + 1;
    await withRetry(
      () => fanOut.enqueue(rest.map((_, i) => ({ kind: 'fanout-part' as const, hash, part: i + 1, parts, receivedAt }))),
      `queueing ${rest.length} parts of ${normalized.eventType} ${normalized.eventId}`,
    );
  } else {
    for (const [i, part] of rest.entries()) addWrites(writes, await project(part, `projecting part ${i + 1} of ${normalized.eventId}`));
  }
  // Queued parts nudge the closure stage themselves (fanOut.ts). A redelivery nudges again: the
  // first delivery may have stored links and crashed before this.
  await nudgeClosures(deps, newLinks, duplicate && first.edges.length > 0, normalized.eventId);
  const { predictionRequest } = normalized;
  if (predictionRequest && deps.predictionRequests) {
    const predictionRequests = deps.predictionRequests;
    await withRetry(
      () => predictionRequests.put(predictionRequest, prov.instant, prov),
      `recording request ${predictionRequest.requestId}`,
    );
  }
  // New evidence only: a replay rebuilds the graph, it does not announce it again. A failed send
  // throws, so the platform redelivers and the jobs go out then (at least once).
  if (deps.publisher && channel !== 'openlineage' && options.followUp !== false)
    await publishOpenLineage(deps.graph, deps.publisher, normalized.delta, deps.now());
  let enqueued = 0;
  const hops = (options.hops ?? 0) + 1;
  const asked = new Set(normalized.enrich.map((m) => m.armId.toLowerCase()));
  const registryAssets = deps.registries ? registryFollowUps(normalized.delta, deps.registries) : [];
  const enrich = [...normalized.enrich, ...registryAssets.filter((m) => !asked.has(m.armId.toLowerCase()))];
  const sink = deps.enrichments;
  if (sink && followsLinks(deps, options) && enrich.length > 0) {
    await withRetry(
      () =>
        sink.enqueue(
          enrich.map((r) => ({
            ...r,
            hops,
            cause: r.cause ?? { eventId: normalized.eventId, eventType: normalized.eventType, hash },
          })),
        ),
      'enqueueing enrichment',
    );
    enqueued = enrich.length;
  }
  return {
    status: 'projected',
    hash,
    eventId: normalized.eventId,
    eventType: normalized.eventType,
    duplicate,
    writes,
    enqueued,
    queuedParts: fanOut ? rest.length : 0,
  };
}

/** Whether a capture with these options queues its follow-ups: links are followed MAX_ENRICHMENT_HOPS deep. */
export function followsLinks(deps: Pick<CaptureDeps, 'enrichments'>, options: CaptureOptions): boolean {
  return deps.enrichments !== undefined && options.followUp !== false && (options.hops ?? 0) + 1 <= MAX_ENRICHMENT_HOPS;
}

/**
 * What an event projects and with which provenance. Capture and the queued parts of its graph
 * work (fanOut.ts) compute it alike, from the same logged body, so the parts are the same cut.
 */
export function projectionOf(
  deps: Pick<CaptureDeps, 'approvalRules'>,
  normalized: Extract<Normalized, { status: 'project' }>,
  at: { channel: string; hash: string; receivedAt: string; delivery?: Record<string, unknown> },
): { delta: GraphDelta; prov: Provenance } {
  // Approvals the rules read from a model version's tags, properties or stage are facts of this event too.
  approvalsFromRules(normalized.delta, deps.approvalRules ?? DEFAULT_RULES, normalized.time);
  const prov: Provenance = {
    source: at.channel,
    eventId: normalized.eventId,
    eventType: normalized.eventType,
    eventTime: normalized.time,
    instant: toInstant(normalized.time) as string, // every normalizer checks the time parses
    hash: at.hash,
    learnedAt: at.receivedAt,
    ...(at.delivery ? { delivery: at.delivery } : {}),
  };
  return { delta: normalized.delta, prov };
}

function addWrites(total: ApplyResult, more: ApplyResult): void {
  total.created += more.created;
  total.updated += more.updated;
  total.unchanged += more.unchanged;
  total.newLinks += more.newLinks;
}

/**
 * Tells the closure stage that links are pending (CLOSURE_QUEUE): when this projection stored new
 * ones, or when it may be finishing one that stored some and failed before nudging (`again`).
 * Capture and the fan-out worker alike; neither propagates closures itself.
 */
export async function nudgeClosures(deps: Pick<CaptureDeps, 'closures'>, newLinks: number, again: boolean, eventId: string): Promise<void> {
  const sink = deps.closures;
  if (!sink || (newLinks === 0 && !again)) return;
  await withRetry(() => sink.enqueue([{ newLinks, eventId }]), 'nudging the closure stage');
}
