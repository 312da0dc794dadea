import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { DomainError } from '../errors.js';
import { problem } from '../http.js';
import { chatopsSettings, type ChatopsSettings } from './settings.js';

/** HTTP plumbing shared by the two chat routes. */

/** Slash-command forms and Teams activities are a few KB; anything far larger is not from them. */
export const MAX_CHAT_BODY = 64 * 1024;

/** The body exactly as sent: signatures cover these bytes, not a decoded or re-encoded string. */
export async function rawBody(request: HttpRequest): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_CHAT_BODY) throw new DomainError('payload-too-large', `the body is larger than ${MAX_CHAT_BODY} bytes`);
  const body = Buffer.from(await request.arrayBuffer());
  if (body.length > MAX_CHAT_BODY) throw new DomainError('payload-too-large', `the body is larger than ${MAX_CHAT_BODY} bytes`);
  return body;
}

export function notConfigured(detail: string): HttpResponseInit {
  return problem(new DomainError('not-configured', detail));
}

export function unauthorized(reason: string): HttpResponseInit {
  return problem(new DomainError('unauthorized', reason));
}

/**
 * The chat settings with the platform's secret present, or the 503 to answer. Never proceeds
 * without the secret: an unsigned chat request must not reach the lookups.
 */
export function settingsWithSecret(
  name: 'SLACK_SIGNING_SECRET' | 'TEAMS_WEBHOOK_SECRET',
  hint: string,
): { ok: true; settings: ChatopsSettings; secret: string } | { ok: false; response: HttpResponseInit } {
  try {
    const settings = chatopsSettings();
    const secret = settings[name];
    return secret ? { ok: true, settings, secret } : { ok: false, response: notConfigured(`Set ${name} ${hint}.`) };
  } catch (error) {
    return { ok: false, response: notConfigured(error instanceof Error ? error.message : String(error)) };
  }
}

/**
 * The prologue both chat routes share: settings with the platform's secret (else 503), the raw
 * body within its limit (else 413), and a valid signature over exactly those bytes (else 401).
 */
export async function signedRequest(
  request: HttpRequest,
  secretName: 'SLACK_SIGNING_SECRET' | 'TEAMS_WEBHOOK_SECRET',
  hint: string,
  verify: (secret: string, body: Buffer) => { ok: true } | { ok: false; reason: string },
): Promise<{ ok: true; settings: ChatopsSettings; body: Buffer } | { ok: false; response: HttpResponseInit }> {
  const loaded = settingsWithSecret(secretName, hint);
  if (!loaded.ok) return loaded;
  let body: Buffer;
  try {
    body = await rawBody(request);
  } catch (error) {
    return { ok: false, response: problem(error) };
  }
  const verdict = verify(loaded.secret, body);
  if (!verdict.ok) return { ok: false, response: unauthorized(verdict.reason) };
  return { ok: true, settings: loaded.settings, body };
}
