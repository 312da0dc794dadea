import { rawRoute } from '../shared/api/route.js';
import { parseCommand } from '../shared/chatops/commands.js';
import { startCommand, withinBudget } from '../shared/chatops/executor.js';
import { signedRequest } from '../shared/chatops/http.js';
import { linkBase } from '../shared/chatops/links.js';
import { verifySlackSignature } from '../shared/chatops/signature.js';
import { responseUrlAllowed, slackMessageSchema, toBlockKit } from '../shared/chatops/slack.js';
import type { SlackAnswerMessage } from '../shared/chatops/slackDeferred.js';
import { getServices } from '../shared/composition.js';
import { json } from '../shared/http.js';

/** Slack shows the user an error when a slash command's response takes more than 3 s. */
const SLACK_BUDGET_MS = 2_500;

export const chatopsSlackRoute = rawRoute(
  {
    name: 'chatopsSlack',
    method: 'POST',
    route: 'chatops/slack',
    summary: 'Slack slash command: ask the lineage bot',
    description:
      "The request URL of a Slack slash command. Slack posts a form (`application/x-www-form-urlencoded`: `text`, `command`, `response_url`, `user_id`, …) signed with the app's signing secret (`X-Slack-Signature`, `X-Slack-Request-Timestamp`); the signature is the authentication, so no function key is needed. `text` is one of: `help`, `lineage REF`, `impact REF`, `gate REF`, `diff REF REF` (each with an optional `in WORKSPACE_ARM_ID`), `served ENDPOINT at TIME`, `request ID`; a trailing `--public` answers the channel instead of only the caller. Answers are Block Kit; one that takes longer than Slack waits is acknowledged at once, queued, and posted to `response_url` when ready. 401 for a missing, wrong or stale signature; 503 when SLACK_SIGNING_SECRET is not set or a chat-ops setting is invalid.",
    tags: ['chat-ops'],
    authLevel: 'anonymous',
    responses: {
      200: { description: 'A Block Kit message (also for commands that failed: the failure is the message)', schema: slackMessageSchema },
    },
    problems: ['unauthorized', 'payload-too-large', 'not-configured'],
  },
  async (request, context) => {
    const signed = await signedRequest(request, 'SLACK_SIGNING_SECRET', "to the Slack app's signing secret", (secret, body) =>
      verifySlackSignature({
        secret,
        timestamp: request.headers.get('x-slack-request-timestamp'),
        signature: request.headers.get('x-slack-signature'),
        body,
      }),
    );
    if (!signed.ok) return signed.response;
    const { settings, body } = signed;

    const form = new URLSearchParams(body.toString('utf8'));
    // Slack checks the request URL's certificate with a signed `ssl_check=1` post; it wants a bare 200.
    if (form.get('ssl_check') === '1') return { status: 200 };
    const parsed = parseCommand(form.get('text') ?? '');
    const responseType = parsed.public ? 'in_channel' : 'ephemeral';
    const links = linkBase(settings.PUBLIC_BASE_URL, request.url);
    const { link, view, answer } = startCommand(parsed, {
      services: getServices,
      settings,
      linkBase: links,
      prefix: form.get('command') ?? '',
      log: (message) => context.error(message),
    });
    const result = await withinBudget(answer, settings.CHATOPS_TIME_BUDGET_MS ?? SLACK_BUDGET_MS);
    if (result.done) return json(toBlockKit(result.value, responseType));

    const responseUrl = form.get('response_url');
    if (responseUrl && responseUrlAllowed(responseUrl, settings.SLACK_RESPONSE_URL_ALLOW_ANY)) {
      // The operations queue carries the command to runOperation, which answers at response_url;
      // unlike work left running after this response, it survives the worker being recycled.
      try {
        const message: SlackAnswerMessage = {
          kind: 'slack-answer',
          text: form.get('text') ?? '',
          command: form.get('command') ?? '',
          responseUrl,
          responseType,
          linkBase: links,
        };
        await (await getServices()).operations.queue.send(message);
        return json(
          toBlockKit({ title: 'Working on it…', lines: ['The answer follows here in a moment.'], link, view, tone: 'info' }, responseType),
        );
      } catch (error) {
        context.warn(`chat-ops: queueing the deferred Slack answer failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    } else if (responseUrl) context.warn('chat-ops: refused a response_url outside https://hooks.slack.com/');
    return json(
      toBlockKit(
        {
          title: 'Still working on it',
          lines: ['This takes longer than Slack waits; the full answer is behind the link.'],
          link,
          view,
          tone: 'info',
        },
        responseType,
      ),
    );
  },
);
