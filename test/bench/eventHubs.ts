import { EventHubConsumerClient, EventHubProducerClient, earliestEventPosition } from '@azure/event-hubs';
import { startAzureMlStandIn } from '../../infra/local/azureMlStandIn/index.js';
import { startAzurite, startCosmos } from '../../infra/local/embeddedServices.js';
import { startEventHubsStandIn } from '../../infra/local/eventHubsStandIn/index.js';
import { startHost } from '../../infra/local/host.js';
import { buildServices } from '../../shared/composition.js';
import { loadSettings } from '../../shared/config.js';
import { createCosmosClient, ensureCosmos } from '../../shared/store/cosmosClient.js';
import { monitorStream } from './monitorStream.js';
import { fixed, heading, int, runSectionAlone, table } from './report.js';

/**
 * Section 7: Event Hubs end to end, as `npm start` runs it. Azure Monitor messages are sent with
 * EventHubProducerClient over AMQP to the stand-in (4 partitions), the local host consumes them
 * with EventHubConsumerClient and Blob checkpoints in Azurite, and captureEventHub writes the
 * embedded Cosmos server; enrichment runs meanwhile against the REST stand-in, as it would.
 * Records per second from the first send until the host has reported every record captured; the
 * producer shares the host's process (one event loop), so its sends slow down while capture runs.
 * For scale, the same messages through the stand-in alone (producer, then a plain consumer).
 */
const MESSAGES = 300;
const PARTITIONS = 4;
const HUB = 'insights-logs-amlworkspace';

export async function runEventHubsBench(messages = MESSAGES): Promise<void> {
  console.log(heading(`7. Event Hubs end to end: producer -> AMQP stand-in -> local host consumer -> capture (${messages} messages)`));
  const [cosmos, azurite, hubs, rest] = await Promise.all([
    startCosmos(0),
    startAzurite({ blob: 0, queue: 0, table: 0 }),
    startEventHubsStandIn({ hubs: [HUB, 'transport'].map((name) => ({ name, partitionCount: PARTITIONS })) }),
    startAzureMlStandIn({ port: 0 }),
  ]);
  const env = {
    COSMOS_ENDPOINT: cosmos.url,
    COSMOS_KEY: cosmos.key,
    COSMOS_DATABASE: 'bench-eventhubs',
    STORAGE_CONNECTION_STRING: azurite.connectionString,
    AzureWebJobsStorage: azurite.connectionString,
    AZUREML_MANAGEMENT_ENDPOINT: rest.url,
    EVENTHUB_CONNECTION: hubs.connectionString(),
    EVENTHUB_NAME: HUB,
    ENRICHMENT_QUEUE: 'enrichment',
    COMPLIANCE_LINEAGE_SCHEDULE: '0 0 2 * * *',
    COMPLIANCE_DRIFT_SCHEDULE: '0 15 2 * * *',
    COMPLIANCE_RETENTION_SCHEDULE: '0 30 2 * * *',
    COMPLIANCE_PII_SCHEDULE: '0 45 2 * * *',
  };
  Object.assign(process.env, env);
  const settings = loadSettings();
  const client = await createCosmosClient(settings);
  await ensureCosmos(client, settings.COSMOS_DATABASE);
  client.dispose();
  await (await buildServices(settings)).ensureStorage();

  const stream = monitorStream(messages, 20240601);
  const expected = stream.reduce((n, m) => n + m.body.records.length, 0);
  const transport = await transportOnly(
    hubs.connectionString(),
    stream.map((m) => m.body),
  );
  let captured = 0;
  let invocations = 0;
  let allCaptured!: () => void;
  const done = new Promise<void>((resolve) => (allCaptured = resolve));
  const host = await startHost({
    port: 0,
    log: (line) => {
      const m = /captureEventHub: captured \d+ messages: \{"records":(\d+)/.exec(line);
      if (!m) return;
      invocations++;
      captured += Number(m[1]);
      if (captured >= expected) allCaptured();
    },
  });
  const producer = new EventHubProducerClient(hubs.connectionString(), HUB);
  try {
    const started = performance.now();
    // Diagnostic settings write each message to some partition; the producer spreads them evenly.
    for (const [i, m] of stream.entries()) await producer.sendBatch([{ body: m.body }], { partitionId: String(i % PARTITIONS) });
    const sentMs = performance.now() - started;
    await done;
    const totalMs = performance.now() - started;
    console.log(
      table(
        ['path', 'messages', 'records', 'send (ms)', 'sent records/s', 'end to end (ms)', 'records/s', 'batches', 'records/batch'],
        [
          [
            'stand-in only (producer -> consumer)',
            int(messages),
            int(expected),
            int(transport.sentMs),
            int((expected / transport.sentMs) * 1000),
            int(transport.totalMs),
            int((expected / transport.totalMs) * 1000),
            int(transport.batches),
            fixed(expected / transport.batches, 1),
          ],
          [
            'through the local host into capture',
            int(messages),
            int(expected),
            int(sentMs),
            int((expected / sentMs) * 1000),
            int(totalMs),
            int((expected / totalMs) * 1000),
            int(invocations),
            fixed(expected / invocations, 1),
          ],
        ],
      ),
    );
  } finally {
    await producer.close();
    await host.stop();
    await Promise.all([hubs.stop(), rest.stop(), azurite.stop(), cosmos.stop()]);
  }
}

runSectionAlone(import.meta.url, '7', () => runEventHubsBench());

/** The messages through the stand-in alone: sent one by one, then read back by a plain consumer. */
async function transportOnly(connection: string, bodies: unknown[]): Promise<{ sentMs: number; totalMs: number; batches: number }> {
  const producer = new EventHubProducerClient(connection, 'transport');
  const consumer = new EventHubConsumerClient('$Default', connection, 'transport');
  const started = performance.now();
  for (const [i, body] of bodies.entries()) await producer.sendBatch([{ body }], { partitionId: String(i % PARTITIONS) });
  const sentMs = performance.now() - started;
  let received = 0;
  let batches = 0;
  await new Promise<void>((resolve) => {
    const subscription = consumer.subscribe(
      {
        processEvents: (events) => {
          received += events.length;
          if (events.length > 0) batches++;
          if (received >= bodies.length) void subscription.close().then(resolve);
          return Promise.resolve();
        },
        processError: () => Promise.resolve(),
      },
      { startPosition: earliestEventPosition, maxBatchSize: 100, maxWaitTimeInSeconds: 1 },
    );
  });
  const totalMs = performance.now() - started;
  await Promise.all([producer.close(), consumer.close()]);
  return { sentMs, totalMs, batches };
}
