// A tiny function app used only by the local host's queue test: a queue trigger whose messages
// say how long to take, and HTTP functions to enqueue work and to report what started and finished.
import { app } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';

const QUEUE = 'hostile-work';
const started = [];
const finished = [];

app.storageQueue('work', {
  queueName: QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: async (message) => {
    started.push(message.id);
    await new Promise((resolve) => setTimeout(resolve, message.sleepMs ?? 0));
    finished.push(message.id);
  },
});

app.http('enqueue', {
  route: 'enqueue',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: async (request) => {
    const queue = new QueueClient(process.env.AzureWebJobsStorage, QUEUE);
    await queue.createIfNotExists();
    for (const message of await request.json()) await queue.sendMessage(Buffer.from(JSON.stringify(message)).toString('base64'));
    return { status: 202 };
  },
});

app.http('progress', { route: 'progress', methods: ['GET'], authLevel: 'anonymous', handler: () => ({ jsonBody: { started, finished } }) });
