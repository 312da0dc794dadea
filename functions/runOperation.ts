import { z } from 'zod';
import { storageQueueFunction } from '../shared/api/app.js';
import { chatopsSettings } from '../shared/chatops/settings.js';
import { postSlackAnswer, slackAnswerMessageSchema } from '../shared/chatops/slackDeferred.js';
import { getServices } from '../shared/composition.js';
import { runOperation } from '../shared/operations/operations.js';

const messageSchema = z.discriminatedUnion('kind', [z.object({ kind: z.literal('operation'), id: z.uuid() }), slackAnswerMessageSchema]);

/**
 * Works the operations queue: long operations started over HTTP (compliance runs, replays) and
 * deferred Slack answers. A failure throws, so the queue delivers the message again (the host's
 * maxDequeueCount, then the poison queue); an operation records its final failure itself.
 */
export const operationsWorker = storageQueueFunction('runOperation', {
  queueName: '%OPERATIONS_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    const parsed = messageSchema.safeParse(message);
    if (!parsed.success)
      return context.warn(`runOperation: dropped a message that is neither an operation nor a Slack answer: ${parsed.error.message}`);
    const log = (line: string) => context.log(line);
    if (parsed.data.kind === 'slack-answer')
      return postSlackAnswer(parsed.data, { services: getServices, settings: chatopsSettings(), log });
    const services = await getServices();
    const dequeueCount = Number((context.triggerMetadata as { dequeueCount?: unknown } | undefined)?.dequeueCount ?? 1);
    await runOperation(services.operations, parsed.data.id, { dequeueCount, maxAttempts: services.settings.OPERATIONS_MAX_ATTEMPTS, log });
  },
});
