import { z } from 'zod';
import type { Services } from '../composition.js';
import { parseCommand } from './commands.js';
import { startCommand } from './executor.js';
import type { ChatopsSettings } from './settings.js';
import { postToResponseUrl, responseUrlAllowed, toBlockKit } from './slack.js';

/**
 * A Slack answer that took longer than Slack waits: the slash-command route acknowledges at once
 * and queues this on the operations queue; runOperation computes the answer and posts it to
 * response_url. The queue holds it through a worker recycle and delivers it again if posting fails.
 */
export const slackAnswerMessageSchema = z.object({
  kind: z.literal('slack-answer'),
  /** The command text as Slack sent it. */
  text: z.string().max(8 * 1024),
  /** The slash command ("/lineage"), for usage lines. */
  command: z.string().max(64),
  responseUrl: z.url(),
  responseType: z.enum(['ephemeral', 'in_channel']),
  /** Origin of the "full JSON" links, fixed when the command arrived. */
  linkBase: z.url(),
});
export type SlackAnswerMessage = z.infer<typeof slackAnswerMessageSchema>;

export async function postSlackAnswer(
  message: SlackAnswerMessage,
  deps: { services: () => Promise<Services>; settings: ChatopsSettings; log: (line: string) => void },
): Promise<void> {
  // Checked again here: the queue is not a reason to trust a URL the route would refuse.
  if (!responseUrlAllowed(message.responseUrl, deps.settings.SLACK_RESPONSE_URL_ALLOW_ANY))
    return deps.log('chat-ops: dropped a deferred Slack answer for a response_url outside https://hooks.slack.com/');
  const { answer } = startCommand(parseCommand(message.text), {
    services: deps.services,
    settings: deps.settings,
    linkBase: message.linkBase,
    prefix: message.command,
    log: deps.log,
  });
  await postToResponseUrl(message.responseUrl, toBlockKit(await answer, message.responseType));
}
