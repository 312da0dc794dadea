import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Request signatures: the only authentication the chat routes have (they are anonymous at the
 * function-key level because neither platform can send a key). Both compare in constant time over
 * the raw body bytes exactly as received; re-serialising a parsed body would change them.
 */
export type Verdict = { ok: true } | { ok: false; reason: string };

/** Slack rejects replays older than five minutes; so do we, in both directions (clock skew aside, a future timestamp is forged). */
export const SLACK_MAX_SKEW_SECONDS = 5 * 60;

/**
 * Slack signs a timestamp, not a nonce, so a captured request passes the signature and the
 * five-minute check until its window ends. The signature itself is unique per request (it covers
 * the timestamp and the body): remembering each one until its timestamp is out of the window
 * refuses a second use. Per worker instance: a replay that reaches another instance of a scaled-out
 * app is not caught (commands only read, so the harm is a repeated answer).
 */
export class SlackReplayCache {
  /** Signature -> the Unix time after which its timestamp is stale anyway. Insertion order = oldest first. */
  private readonly expiries = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  get size(): number {
    return this.expiries.size;
  }

  /** Records the signature; false when it was already used within its window. */
  firstUse(signature: string, timestampSeconds: number, nowSeconds: number): boolean {
    for (const [seen, expiry] of this.expiries) {
      // Roughly in expiry order: the first live entry ends the sweep (a stale one left behind is
      // still treated as expired below, and goes in a later sweep).
      if (expiry >= nowSeconds) break;
      this.expiries.delete(seen);
    }
    const key = signature.toLowerCase();
    const previous = this.expiries.get(key);
    if (previous !== undefined && previous >= nowSeconds) return false;
    // Full of live entries (a flood of validly signed requests): forget the oldest.
    if (this.expiries.size >= this.maxEntries) this.expiries.delete(this.expiries.keys().next().value as string);
    this.expiries.set(key, timestampSeconds + SLACK_MAX_SKEW_SECONDS);
    return true;
  }
}

/** The cache the Slack route uses: one per worker process. */
export const slackReplays = new SlackReplayCache();

function sameBytes(a: Buffer, b: Buffer): boolean {
  // timingSafeEqual throws on different lengths; the length of a digest is no secret.
  return a.length === b.length && timingSafeEqual(a, b);
}

interface TimestampedInput {
  secret: string;
  timestamp: string | null;
  signature: string | null;
  body: Buffer;
  nowSeconds?: number;
  /** Signatures already used, for schemes that refuse replays (default: the scheme's cache). */
  replays?: SlackReplayCache;
}

/** How a sender signs "{prefix}{body}" with a timestamp header: Slack and our own pipelines differ only in names and format. */
interface TimestampedScheme {
  signatureHeader: string;
  timestampHeader: string;
  /** The signature header's value, capturing the hex digest. */
  signature: RegExp;
  /** What the signature header should look like, for the refusal. */
  signatureForm: string;
  signedPrefix: (timestamp: string) => string;
  /** Where used signatures are remembered, when a second use within the window is refused. */
  replays?: SlackReplayCache;
}

/** HMAC-SHA256 over the scheme's prefix and the raw body, with a timestamp within five minutes of now. */
function verifyTimestampedHmac(input: TimestampedInput, scheme: TimestampedScheme): Verdict {
  const { secret, signature, body } = input;
  if (!input.timestamp || !signature)
    return { ok: false, reason: `The ${scheme.signatureHeader} and ${scheme.timestampHeader} headers are required.` };
  const timestamp = input.timestamp.trim();
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: `${scheme.timestampHeader} is not a Unix time.` };
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > SLACK_MAX_SKEW_SECONDS)
    return { ok: false, reason: 'The request timestamp is more than five minutes from now.' };
  const m = scheme.signature.exec(signature.trim());
  if (!m) return { ok: false, reason: `${scheme.signatureHeader} is not ${scheme.signatureForm}.` };
  const expected = createHmac('sha256', secret).update(scheme.signedPrefix(timestamp)).update(body).digest();
  if (!sameBytes(expected, Buffer.from(m[1] as string, 'hex'))) return { ok: false, reason: 'The request signature does not match.' };
  const replays = input.replays ?? scheme.replays;
  if (replays && !replays.firstUse(m[1] as string, Number(timestamp), now))
    return { ok: false, reason: 'This signed request was already received; a replay is refused.' };
  return { ok: true };
}

/** `X-Slack-Signature: v0=hex(HMAC-SHA256(secret, "v0:{timestamp}:{body}"))`, timestamp from `X-Slack-Request-Timestamp`. */
export function verifySlackSignature(input: TimestampedInput): Verdict {
  return verifyTimestampedHmac(input, {
    signatureHeader: 'X-Slack-Signature',
    timestampHeader: 'X-Slack-Request-Timestamp',
    signature: /^v0=([0-9a-f]{64})$/i,
    signatureForm: 'a v0 signature',
    signedPrefix: (timestamp) => `v0:${timestamp}:`,
    replays: slackReplays,
  });
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Teams outgoing webhook: `Authorization: HMAC base64(HMAC-SHA256(base64decode(token), body))`.
 * Teams signs no timestamp, so a captured request can be replayed; commands only read, which
 * keeps that harmless.
 */
export function verifyTeamsSignature(input: { secret: string; authorization: string | null; body: Buffer }): Verdict {
  const m = /^HMAC\s+(\S+)$/i.exec(input.authorization?.trim() ?? '');
  if (!m) return { ok: false, reason: 'The Authorization header must be "HMAC <base64 signature>".' };
  const given = m[1] as string;
  // Buffer.from(…, 'base64') silently skips bad characters; refuse them instead.
  if (!BASE64.test(given) || given.length % 4 !== 0) return { ok: false, reason: 'The HMAC signature is not base64.' };
  const key = Buffer.from(input.secret, 'base64');
  const expected = createHmac('sha256', key).update(input.body).digest();
  return sameBytes(expected, Buffer.from(given, 'base64')) ? { ok: true } : { ok: false, reason: 'The request signature does not match.' };
}

/**
 * A pipeline's signed approval (POST /api/approvals): `X-Lineage-Signature: sha256=hex(HMAC-SHA256(secret,
 * "{timestamp}.{body}"))` with `X-Lineage-Timestamp` in Unix seconds, within five minutes of now.
 */
export function verifyPipelineSignature(input: TimestampedInput): Verdict {
  return verifyTimestampedHmac(input, {
    signatureHeader: 'X-Lineage-Signature',
    timestampHeader: 'X-Lineage-Timestamp',
    signature: /^sha256=([0-9a-f]{64})$/i,
    signatureForm: 'sha256=<hex>',
    signedPrefix: (timestamp) => `${timestamp}.`,
  });
}
