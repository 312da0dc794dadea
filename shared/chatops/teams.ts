import { z } from 'zod';
import { keepFirst, LIMITS, truncate, type Answer } from './answer.js';

/** Teams outgoing-webhook activities in, Adaptive Card 1.4 messages out. */

/** Teams rejects a message over ~28 KB; answers are bounded far below that, this is the backstop. */
export const TEAMS_MAX_BYTES = 28 * 1024;

/** What the app reads of the Activity Teams posts; everything else passes through unread. */
export const teamsActivitySchema = z
  .object({
    type: z.string().optional(),
    text: z
      .string()
      .max(16 * 1024)
      .optional()
      .describe('the message, starting with <at>BotName</at>'),
    from: z.object({ id: z.string().optional(), name: z.string().optional() }).loose().optional(),
  })
  .loose()
  .meta({ id: 'TeamsActivity' });

export const teamsMessageSchema = z
  .object({
    type: z.literal('message'),
    text: z.string(),
    attachments: z.array(
      z.object({ contentType: z.literal('application/vnd.microsoft.card.adaptive'), content: z.record(z.string(), z.unknown()) }),
    ),
  })
  .meta({ id: 'TeamsMessage' });
export type TeamsMessage = z.infer<typeof teamsMessageSchema>;

const COLOR: Record<Answer['tone'], string> = { good: 'Good', warning: 'Warning', error: 'Attention', info: 'Default' };

export function toTeamsMessage(answer: Answer): TeamsMessage {
  // 1.4 is the newest schema every Teams client renders; `wrap` keeps long ids from being cut off.
  const card = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [
      { type: 'TextBlock', text: answer.title, weight: 'Bolder', size: 'Medium', color: COLOR[answer.tone], wrap: true },
      ...answer.lines.map((line) => ({ type: 'TextBlock', text: line, wrap: true, spacing: 'Small' })),
    ],
    ...(answer.link || answer.view
      ? {
          actions: [
            ...(answer.link ? [{ type: 'Action.OpenUrl', title: 'Full JSON', url: answer.link }] : []),
            ...(answer.view ? [{ type: 'Action.OpenUrl', title: 'Open in the lineage explorer', url: answer.view }] : []),
          ],
        }
      : {}),
  };
  const message: TeamsMessage = {
    type: 'message',
    text: answer.title,
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }],
  };
  if (Buffer.byteLength(JSON.stringify(message)) <= TEAMS_MAX_BYTES) return message;
  // A backstop for answers that skipped `bounded` (a bounded one is a few KB): halve the lines until it fits.
  if (answer.lines.length <= 1)
    return toTeamsMessage({ ...answer, title: truncate(answer.title, LIMITS.titleChars), lines: [], link: undefined, view: undefined });
  return toTeamsMessage({ ...answer, lines: keepFirst(answer.lines, Math.floor(answer.lines.length / 2)) });
}
