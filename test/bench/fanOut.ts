import { startAzurite, startCosmos } from '../../infra/local/embeddedServices.js';
import { buildServices, type Services } from '../../shared/composition.js';
import { loadSettings } from '../../shared/config.js';
import { LINKS_PER_PART } from '../../shared/graph/split.js';
import { fanOutPartSchema } from '../../shared/ingest/fanOutMessage.js';
import { createCosmosClient, ensureCosmos } from '../../shared/store/cosmosClient.js';
import { StoreMeter } from '../../shared/store/storeMeter.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { maintainClosures } from '../../shared/usecases/closures.js';
import { workFanOutPart } from '../../shared/usecases/fanOut.js';
import { mapLimited } from '../../shared/util/mapLimited.js';
import { modelDeployed } from '../helpers/events.js';
import { fixed, heading, int, runSectionAlone, table } from './report.js';

/**
 * Section 11: bounded fan-out (issue 16, hole 7). A ModelDeployed naming N models is captured as
 * the Event Grid handler does (the webhook's share: log, part 0 inline, the other parts queued),
 * then the fan-out queue is drained as projectFanOutPart does, BENCH_FANOUT_WORKERS parts at a time
 * (default 1; the Functions host works up to 24 messages of a queue at once per instance), then
 * one run of the closure stage (maintainClosures) brings the closures of every part's links up to
 * date, as its queue trigger would. Against the embedded Cosmos server and Azurite in this process.
 * BENCH_FANOUT_MODELS (comma-separated) sets the sizes.
 */
const SIZES = (process.env.BENCH_FANOUT_MODELS ?? '1000,3000').split(',').map(Number);
const WORKERS = Number(process.env.BENCH_FANOUT_WORKERS ?? 1);

export async function runFanOutBench(sizes = SIZES): Promise<void> {
  console.log(heading(`11. Bounded fan-out: ModelDeployed naming ${sizes.map(int).join(' and ')} models (${LINKS_PER_PART} links a part)`));
  const [cosmos, azurite] = await Promise.all([startCosmos(0), startAzurite({ blob: 0, queue: 0, table: 0 })]);
  try {
    const settings = loadSettings({
      COSMOS_ENDPOINT: cosmos.url,
      COSMOS_KEY: cosmos.key,
      COSMOS_DATABASE: 'bench-fanout',
      STORAGE_CONNECTION_STRING: azurite.connectionString,
    });
    const client = await createCosmosClient(settings);
    await ensureCosmos(client, settings.COSMOS_DATABASE);
    client.dispose();
    const meter = new StoreMeter();
    const services = await buildServices(settings, meter);
    await services.ensureStorage();

    const rows: string[][] = [];
    for (const n of sizes) {
      const ids = Array.from({ length: n }, (_, i) => `credit-n${n}-${String(i).padStart(5, '0')}:${(i % 4) + 1}`);
      const event = modelDeployed(`svc-${n}`, ids.join(','), { id: `bench-dep-${n}` });
      const bytes = Buffer.byteLength(JSON.stringify(event));

      let started = performance.now();
      const before = meter.storeRequests;
      const outcome = await captureEvent(services.capture, event);
      const inlineMs = performance.now() - started;
      const inlineRequests = meter.storeRequests - before;
      if (outcome.status !== 'projected') throw new Error(`expected the event to project, got ${outcome.status}`);

      started = performance.now();
      const drained = await drain(services);
      const drainMs = performance.now() - started;
      const drainRequests = meter.storeRequests - before - inlineRequests;
      started = performance.now();
      await maintainClosures(services.graph);
      const stageMs = performance.now() - started;
      const stageRequests = meter.storeRequests - before - inlineRequests - drainRequests;
      rows.push([
        int(n),
        `${fixed(bytes / 1024, 0)} KB`,
        `${int(inlineMs)} ms`,
        int(inlineRequests),
        `${int(outcome.queuedParts)} (${int(drained.redelivered)} redelivered)`,
        `${fixed(drainMs / 1000, 1)} s`,
        `${fixed(drainMs / 1000 / (n / 1000), 1)} s`,
        `${fixed(stageMs / 1000, 1)} s, ${int(stageRequests)} requests`,
        fixed((inlineRequests + drainRequests + stageRequests) / n, 1),
      ]);
    }
    console.log(
      table(
        [
          'models',
          'event',
          'webhook (inline)',
          'its requests',
          'parts queued',
          'drain',
          'drain per 1,000 models',
          'closure stage',
          'Cosmos requests per model (stage included)',
        ],
        rows,
      ),
    );
    console.log(
      `  The webhook's share does not grow with the event (Event Grid waits 30 s); the drain is ${WORKERS} part(s) at a time, one process, one embedded server.`,
    );
  } finally {
    await Promise.all([cosmos.stop(), azurite.stop()]);
  }
}

/** Works the fan-out queue until it is empty; a part that throws is delivered again, as the queue would. */
async function drain(services: Services): Promise<{ parts: number; redelivered: number }> {
  const queue = services.fanOutQueue.client;
  let parts = 0;
  let redelivered = 0;
  for (;;) {
    const { receivedMessageItems: batch } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 600 });
    if (batch.length === 0) return { parts, redelivered };
    await mapLimited(batch, WORKERS, async (m) => {
      const body = fanOutPartSchema.parse(JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')));
      for (let delivery = 1; ; delivery++) {
        try {
          const outcome = await workFanOutPart(services.capture, body, { dequeueCount: delivery, maxAttempts: 5 });
          if (outcome.status === 'dead-lettered') throw new Error(outcome.reason);
          break;
        } catch (error) {
          if (delivery >= 5) throw error;
          redelivered++;
        }
      }
      await queue.deleteMessage(m.messageId, m.popReceipt);
      parts++;
    });
  }
}

runSectionAlone(import.meta.url, '11', runFanOutBench);
