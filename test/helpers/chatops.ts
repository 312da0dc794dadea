import { createHmac } from 'node:crypto';

/** Slack's request signature (`v0=` HMAC-SHA256 of `v0:TIMESTAMP:BODY`), as Slack computes it. */
export function slackSignature(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}
