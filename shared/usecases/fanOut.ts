import { isPermanentStoreRefusal } from '../errors.js';
import { splitDelta } from '../graph/split.js';
import { fanOutPartSchema, type FanOutPart } from '../ingest/fanOutMessage.js';
import { describeIssues, fromZodIssues } from '../ingest/issues.js';
import { normalize } from '../ingest/normalize.js';
import { withRetry } from '../store/retry.js';
import { contentHash } from '../util/canonicalJson.js';
import { applyDelta, type ApplyResult } from './applyDelta.js';
import { nudgeClosures, projectionOf, type CaptureDeps } from './captureEvent.js';

/** Dead letters of queued parts carry this channel; replay projects them again (replay.ts). */
export const FANOUT_CHANNEL = 'fanout';

/** A part that no redelivery can project: its event is gone, altered, or no longer cut this way. */
export class PartRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PartRefused';
  }
}

type PartDeps = Pick<CaptureDeps, 'eventLog' | 'graph' | 'approvalRules' | 'closures'>;

/**
 * Projects one queued part of an event's graph work: the event is read back from the raw event
 * log, normalized and cut exactly as capture cut it, and the part's links merged into the graph.
 * Merging is idempotent and order-free, so a redelivered part, or one replayed from the dead
 * letters, changes nothing that is already there. Like capture, a part writes nodes and edges only:
 * its new links are stored pending and the closure stage is nudged (`again`: an earlier attempt
 * may have stored links and failed before nudging).
 */
export async function projectFanOutPart(deps: PartDeps, message: FanOutPart, again = false): Promise<ApplyResult> {
  const id = message.hash.replace(/^sha256:/, '');
  const logged = await withRetry(() => deps.eventLog.get(id), `reading raw event ${message.hash}`);
  if (!logged) throw new PartRefused(`raw event ${message.hash} is not in the event log (purged by retention, or never logged)`);
  if (contentHash(logged.body) !== message.hash)
    throw new PartRefused(`the stored body of raw event ${message.hash} no longer hashes to its id; it is not projected`);
  const normalized = normalize(logged.channel, logged.body, message.hash);
  if (normalized.status !== 'project') throw new PartRefused(`raw event ${message.hash} no longer projects: ${normalized.reason}`);
  const { delta, prov } = projectionOf(deps, normalized, {
    channel: logged.channel,
    hash: message.hash,
    receivedAt: message.receivedAt,
    delivery: logged.delivery,
  });
  const parts = splitDelta(delta);
  const part = parts[message.part];
  if (parts.length !== message.parts || !part)
    throw new PartRefused(`raw event ${message.hash} is cut into ${parts.length} parts now, not the ${message.parts} queued`);
  let newLinks = 0;
  const writes = await withRetry(async () => {
    const result = await applyDelta(deps.graph, part, prov);
    newLinks += result.newLinks;
    return result;
  }, `projecting part ${message.part} of ${normalized.eventId}`);
  await nudgeClosures(deps, newLinks, again, normalized.eventId);
  return writes;
}

export type PartOutcome = { status: 'projected'; writes: ApplyResult } | { status: 'dead-lettered'; reason: string };

/**
 * One delivery of a fan-out queue message. A part that cannot be projected (malformed message,
 * event gone, store refusal) is dead-lettered with the reason at once; transient failures throw,
 * so the queue delivers again, until the last delivery (`maxAttempts`) dead-letters it.
 * Dead-lettered parts are projected again by the replay command (`replayed`).
 */
export async function workFanOutPart(
  deps: PartDeps & Pick<CaptureDeps, 'deadLetters' | 'now'>,
  body: unknown,
  delivery: { dequeueCount: number; maxAttempts: number; replayed?: boolean },
): Promise<PartOutcome> {
  const deadLetter = async (reason: string, path: string, message: string): Promise<PartOutcome> => {
    await withRetry(
      () =>
        deps.deadLetters.put({
          hash: contentHash(body),
          channel: FANOUT_CHANNEL,
          receivedAt: deps.now().toISOString(),
          reason,
          issues: [{ path, message }],
          body,
        }),
      'writing a dead letter',
    );
    return { status: 'dead-lettered', reason };
  };
  const parsed = fanOutPartSchema.safeParse(body);
  if (!parsed.success) {
    const issues = fromZodIssues(parsed.error.issues);
    return deadLetter(`not a fan-out part: ${describeIssues(issues)}`, issues[0]?.path ?? '(message)', describeIssues(issues));
  }
  const { part, parts, hash } = parsed.data;
  try {
    return {
      status: 'projected',
      writes: await projectFanOutPart(deps, parsed.data, delivery.dequeueCount > 1 || delivery.replayed === true),
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const permanent = error instanceof PartRefused || isPermanentStoreRefusal(error);
    if (!permanent && delivery.dequeueCount < delivery.maxAttempts) throw error;
    const why = permanent ? 'cannot be projected' : `failed after ${delivery.dequeueCount} deliveries`;
    return deadLetter(`Part ${part} of ${parts} of raw event ${hash} ${why}: ${reason}`, permanent ? '(part)' : '(transient)', reason);
  }
}
