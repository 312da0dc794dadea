import { HttpRequest, InvocationContext } from '@azure/functions';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { QueueClient } from '@azure/storage-queue';
import { chatopsSlackRoute } from '../../functions/chatopsSlack.js';
import { operationsWorker } from '../../functions/runOperation.js';
import { slackSignature as sign } from '../helpers/chatops.js';

const WS =
  '/subscriptions/6f1a0c7e-2b7d-4c1e-9a51-3d2f1e0b9c41/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/ws-credit';
const MODEL = `${WS}/models/credit-default/versions/3`;

/** The Slack route called as the worker calls it, over real (empty) stores. */
describe('deferred Slack answers', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  const context = () => new InvocationContext({ functionName: 'test', invocationId: 'i' });
  const request = (url: string, body: string, headers: Record<string, string> = {}) =>
    new HttpRequest({ method: 'POST', url, body: { string: body }, headers });

  it('defers a slow Slack command, through the operations queue, only to an allowed response_url', async () => {
    // Real (empty) stores, so the command takes longer than a 1 ms budget.
    Object.assign(process.env, {
      COSMOS_ENDPOINT: inject('cosmosEndpoint'),
      COSMOS_KEY: inject('cosmosKey'),
      STORAGE_CONNECTION_STRING: inject('storageConnectionString'),
      COSMOS_DATABASE: 'chatops-unit',
      OPERATIONS_QUEUE: 'operations-chatops-unit',
      SLACK_SIGNING_SECRET: 'unit-secret',
      CHATOPS_TIME_BUDGET_MS: '1',
    });
    const queue = new QueueClient(inject('storageConnectionString'), 'operations-chatops-unit');
    await queue.createIfNotExists(); // the template creates it in Azure, the local host at start
    const posts: string[] = [];
    const hook = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => (posts.push(data), res.end()));
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    const responseUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/commands/1`;
    const call = () => {
      const ts = String(Math.floor(Date.now() / 1000));
      const body = new URLSearchParams({ command: '/lineage', text: `lineage ${MODEL}`, response_url: responseUrl }).toString();
      return chatopsSlackRoute.handler(
        request('http://h/api/chatops/slack', body, {
          'x-slack-request-timestamp': ts,
          'x-slack-signature': sign('unit-secret', ts, body),
        }),
        context(),
      );
    };
    try {
      const refused = await call();
      expect(refused.jsonBody).toMatchObject({ text: 'Still working on it' });
      await new Promise((r) => setTimeout(r, 1500));
      expect(posts).toEqual([]);

      process.env.SLACK_RESPONSE_URL_ALLOW_ANY = 'true';
      const deferred = await call();
      expect(deferred.jsonBody).toMatchObject({ text: 'Working on it…' });
      // Nothing is left running in the request: the command waits on the operations queue.
      await new Promise((r) => setTimeout(r, 1000));
      expect(posts).toEqual([]);
      const [message] = (await queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
      expect(message).toBeDefined();
      const body: unknown = JSON.parse(Buffer.from(message?.messageText ?? '', 'base64').toString('utf8'));
      expect(body).toMatchObject({
        kind: 'slack-answer',
        text: `lineage ${MODEL}`,
        command: '/lineage',
        responseUrl,
        responseType: 'ephemeral',
      });
      // The queue trigger, as the host invokes it with the decoded message.
      const worker = operationsWorker.kind === 'storageQueue' ? operationsWorker.options.handler : undefined;
      await worker?.(
        body,
        new InvocationContext({ functionName: 'runOperation', invocationId: 'w', triggerMetadata: { dequeueCount: 1 } }),
      );
      expect(posts).toHaveLength(1);
      expect(JSON.parse(posts[0] as string)).toMatchObject({ response_type: 'ephemeral', blocks: expect.any(Array) });
    } finally {
      await new Promise((r) => hook.close(r));
    }
  });
});
