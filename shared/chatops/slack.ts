import { z } from 'zod';
import { fitChars, truncate, type Answer } from './answer.js';

/** Slack Block Kit rendering, the response_url allow-list, and the deferred post. */

export type ResponseType = 'ephemeral' | 'in_channel';

/** Slack's limits: section text 3000 characters, context element 3000, header 150, 50 blocks a message. */
export const SLACK_LIMITS = { sectionChars: 3000, contextChars: 3000, headerChars: 150, blocks: 50 };

export const slackMessageSchema = z
  .object({
    response_type: z.enum(['ephemeral', 'in_channel']),
    text: z.string().describe('notification fallback'),
    blocks: z.array(z.record(z.string(), z.unknown())).max(SLACK_LIMITS.blocks),
  })
  .meta({ id: 'SlackMessage' });
export type SlackMessage = z.infer<typeof slackMessageSchema>;

/** mrkdwn treats `&`, `<` and `>` as control characters; everything else is literal enough. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function toBlockKit(answer: Answer, responseType: ResponseType): SlackMessage {
  const title = truncate(answer.title, SLACK_LIMITS.headerChars);
  const blocks: Array<Record<string, unknown>> = [{ type: 'header', text: { type: 'plain_text', text: title, emoji: true } }];
  const lines = fitChars(answer.lines.map(escapeMrkdwn), SLACK_LIMITS.sectionChars);
  if (lines.length > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } });
  // `<url|label>`: the URL's query is percent-encoded, so it holds no `|` or `>` to break the link.
  const links = [
    [answer.link, 'Full JSON'],
    [answer.view, 'Open in the lineage explorer'],
  ].flatMap(([url, label]) =>
    url && url.length + 40 <= SLACK_LIMITS.contextChars
      ? [{ type: 'mrkdwn', text: `<${url.replace(/[|>]/g, encodeURIComponent)}|${label}>` }]
      : [],
  );
  if (links.length > 0) blocks.push({ type: 'context', elements: links });
  return { response_type: responseType, text: title, blocks };
}

/**
 * Deferred answers go only to Slack's own webhook host: a forged response_url must not turn this
 * app into a request relay. SLACK_RESPONSE_URL_ALLOW_ANY lifts that for local tests.
 */
export function responseUrlAllowed(url: string | null | undefined, allowAny = false): boolean {
  if (!url) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (allowAny) return u.protocol === 'https:' || u.protocol === 'http:';
  return (
    u.protocol === 'https:' &&
    u.hostname === 'hooks.slack.com' &&
    (u.port === '' || u.port === '443') &&
    u.username === '' &&
    u.password === ''
  );
}

export async function postToResponseUrl(url: string, message: SlackMessage, timeoutMs = 10_000): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  });
  if (!res.ok) throw new Error(`response_url answered HTTP ${res.status}`);
}
