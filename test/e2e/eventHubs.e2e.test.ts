import { randomUUID } from 'node:crypto';
import { EventHubProducerClient } from '@azure/event-hubs';
import { ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CHECKPOINT_CONTAINER } from '../../infra/local/eventHubTrigger.js';
import { startEventHubsStandIn, type RunningEventHubsStandIn } from '../../infra/local/eventHubsStandIn/index.js';
import type { Services } from '../../shared/composition.js';
import type { NodeDoc } from '../../shared/graph/model.js';
import { spawnHost, type SpawnedHost } from '../helpers/localHost.js';
import { runStatusRecord } from '../helpers/monitorRecords.js';
import { freshServices, testSettings } from '../helpers/stores.js';
import { until } from '../helpers/until.js';

/**
 * The local host consuming Event Hubs over AMQP as `func start` would: records sent with the real
 * producer client across the stand-in's partitions land in the graph through captureEventHub, a
 * host killed mid-stream resumes from its Blob checkpoints without losing anything, and a poison
 * message is dead-lettered while its partition moves on.
 */
let standIn: RunningEventHubsStandIn;
const suffix = randomUUID().slice(0, 8);
const HUBS = { spread: `spread-${suffix}`, restart: `restart-${suffix}` };
const PARTITIONS = 4;

beforeAll(async () => {
  standIn = await startEventHubsStandIn({
    hubs: Object.values(HUBS).map((name) => ({ name, partitionCount: PARTITIONS })),
    log: () => undefined,
  });
});
afterAll(async () => {
  await standIn?.stop();
});

/** A database and containers of the test's own, the host's settings pointing at them and at the stand-in. */
async function stores(hub: string): Promise<{ services: Services; env: Record<string, string> }> {
  const settings = testSettings();
  const own = {
    COSMOS_DATABASE: settings.COSMOS_DATABASE,
    DEADLETTER_CONTAINER: settings.DEADLETTER_CONTAINER,
    ENRICHMENT_QUEUE: settings.ENRICHMENT_QUEUE,
  };
  const services = await freshServices(own);
  const storage = inject('storageConnectionString');
  const env = {
    ...own,
    COSMOS_ENDPOINT: inject('cosmosEndpoint'),
    COSMOS_KEY: inject('cosmosKey'),
    STORAGE_CONNECTION_STRING: storage,
    AzureWebJobsStorage: storage,
    EVENTHUB_CONNECTION: standIn.connectionString(),
    EVENTHUB_NAME: hub,
  };
  return { services, env };
}

const jobs = async (services: Services) =>
  (await services.graph.all()).filter((d): d is NodeDoc => d.docType === 'node' && d.kind === 'job' && !d.placeholder);

/** Records the host reports as captured ("captured N messages: {"records": R, ...}"), summed. */
function captured(host: SpawnedHost): { messages: number; records: number } {
  let messages = 0;
  let records = 0;
  for (const m of host.output().matchAll(/captureEventHub: captured (\d+) messages: \{"records":(\d+)/g)) {
    messages += Number(m[1]);
    records += Number(m[2]);
  }
  return { messages, records };
}

const envelope = (names: string[]) => ({ records: names.map((n) => runStatusRecord(n, 'Running', '2024-05-01T08:00:00Z')) });

describe('local host over Event Hubs', () => {
  it('captures records sent across every partition, and dead-letters a poison message while its partition moves on', async () => {
    const { services, env } = await stores(HUBS.spread);
    const producer = new EventHubProducerClient(standIn.connectionString(), HUBS.spread);
    const expected: string[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      for (let m = 0; m < 5; m++) {
        const names = [0, 1, 2].map((r) => `p${p}-m${m}-r${r}`);
        expected.push(...names);
        await producer.sendBatch([{ body: envelope(names) }], { partitionId: String(p) });
        // A truncated envelope in the middle of partition 2, as a broken producer would send it.
        if (p === 2 && m === 1)
          await producer.sendBatch([{ body: Buffer.from('{"records": [{"time": "2024-05-01T08:') }], { partitionId: '2' });
      }
    }
    await producer.close();

    const host = await spawnHost(env);
    try {
      const landed = await until(
        'every record in the graph',
        () => jobs(services),
        (docs) => docs.length >= expected.length,
        90_000,
      );
      expect(landed.map((d) => d.label).sort()).toEqual([...expected].sort());
      for (let p = 0; p < PARTITIONS; p++) {
        const doc = landed.find((d) => d.label === `p${p}-m4-r2`);
        expect(doc?.provenance[0]?.delivery).toMatchObject({
          partitionId: String(p),
          eventHubName: HUBS.spread,
          sequenceNumber: p === 2 ? 5 : 4, // the poison message took sequence number 2 in partition 2
          recordIndex: 2,
        });
      }
      const letters = [];
      for await (const l of services.deadLetters.pending()) letters.push(l.letter);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        channel: 'eventhubs',
        reason: expect.stringContaining('not an Azure Monitor message'),
        delivery: { partitionId: '2', sequenceNumber: 2 },
      });
    } finally {
      await host.stop();
    }
  }, 180_000);

  it('resumes from its checkpoints after being killed mid-stream and loses nothing', async () => {
    const { services, env } = await stores(HUBS.restart);
    const MESSAGES = 60;
    const PER_MESSAGE = 4;
    const first = await spawnHost(env);
    const producer = new EventHubProducerClient(standIn.connectionString(), HUBS.restart);
    let sent = 0;
    let killed = false;
    const sending = (async () => {
      for (; sent < MESSAGES; sent++) {
        // Stay a few messages ahead of the first host, so that it is killed with the stream half read.
        while (!killed && sent - captured(first).messages > 8) await new Promise((r) => setTimeout(r, 50));
        const names = Array.from({ length: PER_MESSAGE }, (_, r) => `run-${sent}-${r}`);
        await producer.sendBatch([{ body: envelope(names) }], { partitionId: String(sent % PARTITIONS) });
      }
    })();

    let second: SpawnedHost | undefined;
    try {
      await until(
        'the first host to capture part of the stream',
        () => Promise.resolve(captured(first)),
        (c) => c.messages >= 12,
        60_000,
      );
      expect(await first.stop('SIGKILL')).toBeNull(); // no shutdown: checkpoints are whatever was written
      killed = true;
      const before = captured(first);
      expect(sent).toBeLessThan(MESSAGES); // killed mid-stream
      await sending;
      await producer.close();

      second = await spawnHost(env);
      const landed = await until(
        'every record in the graph after the restart',
        () => jobs(services),
        (docs) => docs.length >= MESSAGES * PER_MESSAGE,
        90_000,
      );
      expect(new Set(landed.map((d) => d.label)).size).toBe(MESSAGES * PER_MESSAGE);
      // Redelivered records (after the last checkpoint) change nothing: one status each.
      expect(landed.filter((d) => (d.series.status ?? []).length !== 1)).toEqual([]);
      const after = await until(
        'the second host to finish',
        () => Promise.resolve(captured(second as SpawnedHost)),
        (c) => c.messages + before.messages >= MESSAGES,
      );
      // It started from the checkpoints, not from the start of the stream.
      expect(after.messages).toBeLessThan(MESSAGES);
      expect(after.messages).toBeGreaterThanOrEqual(MESSAGES - before.messages);

      const checkpoints = new ContainerClient(inject('storageConnectionString'), CHECKPOINT_CONTAINER);
      const written: Record<string, string | undefined> = {};
      const last = String(MESSAGES / PARTITIONS - 1);
      await until(
        'checkpoints at the end of every partition',
        async () => {
          for await (const blob of checkpoints.listBlobsFlat({
            prefix: `127.0.0.1/${HUBS.restart}/$default/checkpoint/`,
            includeMetadata: true,
          }))
            written[blob.name.split('/').pop() as string] = blob.metadata?.sequencenumber;
          return written;
        },
        (w) => Object.keys(w).length === PARTITIONS && Object.values(w).every((s) => s === last),
        20_000,
      );
    } finally {
      await first.stop('SIGKILL');
      await second?.stop();
    }
  }, 240_000);
});
