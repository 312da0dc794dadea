import { rawRoute } from '../shared/api/route.js';
import { parseCommand } from '../shared/chatops/commands.js';
import { startCommand, withinBudget } from '../shared/chatops/executor.js';
import { signedRequest } from '../shared/chatops/http.js';
import { linkBase } from '../shared/chatops/links.js';
import { verifyTeamsSignature } from '../shared/chatops/signature.js';
import { teamsActivitySchema, teamsMessageSchema, toTeamsMessage } from '../shared/chatops/teams.js';
import { getServices } from '../shared/composition.js';
import { DomainError } from '../shared/errors.js';
import { json, problem } from '../shared/http.js';

/** Teams gives an outgoing webhook 5 s to answer, network included. */
const TEAMS_BUDGET_MS = 4_000;

export const chatopsTeamsRoute = rawRoute(
  {
    name: 'chatopsTeams',
    method: 'POST',
    route: 'chatops/teams',
    summary: 'Microsoft Teams outgoing webhook: ask the lineage bot',
    description:
      'The callback URL of a Teams outgoing webhook. Teams posts an Activity whose `text` is `<at>BotName</at> COMMAND` and signs the body: `Authorization: HMAC base64(HMAC-SHA256(base64-decoded security token, body))`; the signature is the authentication, so no function key is needed. Commands: `help`, `lineage REF`, `impact REF`, `gate REF`, `diff REF REF` (each with an optional `in WORKSPACE_ARM_ID`), `served ENDPOINT at TIME`, `request ID`. Answers are an Adaptive Card 1.4; Teams waits 5 s and offers no later delivery, so a slower command answers with the link to the full JSON. 400 when the body is not an Activity; 401 for a missing or wrong HMAC signature; 503 when TEAMS_WEBHOOK_SECRET is not set or a chat-ops setting is invalid.',
    tags: ['chat-ops'],
    authLevel: 'anonymous',
    body: teamsActivitySchema,
    responses: {
      200: {
        description: 'A message with an Adaptive Card (also for commands that failed: the failure is the card)',
        schema: teamsMessageSchema,
      },
    },
    problems: ['invalid-request', 'unauthorized', 'payload-too-large', 'not-configured'],
  },
  async (request, context) => {
    const signed = await signedRequest(
      request,
      'TEAMS_WEBHOOK_SECRET',
      'to the security token Teams showed when the outgoing webhook was created',
      (secret, body) => verifyTeamsSignature({ secret, authorization: request.headers.get('authorization'), body }),
    );
    if (!signed.ok) return signed.response;
    const { settings, body } = signed;

    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      payload = undefined;
    }
    const activity = teamsActivitySchema.safeParse(payload);
    if (!activity.success) return problem(new DomainError('invalid-request', 'the body must be a Teams Activity (JSON with a text field)'));
    const text = activity.data.text ?? '';
    // Usage lines name the bot the way this team mentions it.
    const mention = /<at\b[^>]*>([^<]{1,80})<\/at>/i.exec(text)?.[1]?.trim();
    const { link, view, answer } = startCommand(parseCommand(text), {
      services: getServices,
      settings,
      linkBase: linkBase(settings.PUBLIC_BASE_URL, request.url),
      prefix: mention ? `@${mention}` : '',
      log: (message) => context.error(message),
    });
    const result = await withinBudget(answer, settings.CHATOPS_TIME_BUDGET_MS ?? TEAMS_BUDGET_MS);
    if (result.done) return json(toTeamsMessage(result.value));
    // An outgoing webhook cannot post later, so this reply is final; the link has the answer.
    return json(
      toTeamsMessage({
        title: 'Still working on it',
        lines: ['This takes longer than Teams waits; open the full JSON for the answer.'],
        link,
        view,
        tone: 'info',
      }),
    );
  },
);
