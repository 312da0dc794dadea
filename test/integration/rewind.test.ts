import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { EventHubProducerClient } from '@azure/event-hubs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseRewindArgs, rewindHub } from '../../infra/cli/rewind.js';
import { startEventHubsStandIn, type RunningEventHubsStandIn } from '../../infra/local/eventHubsStandIn/index.js';
import type { Services } from '../../shared/composition.js';
import { nodeId, parseArmId } from '../../shared/graph/keys.js';
import { WS } from '../helpers/fixtures.js';
import { ROOT } from '../helpers/localHost.js';
import { runStatusRecord } from '../helpers/monitorRecords.js';
import { freshServices, testSettings } from '../helpers/stores.js';

/**
 * `npm run rewind`: re-reads the hub's retained events through @azure/event-hubs (against the
 * AMQP stand-in) into capture, by enqueued-time window and partition, and is safe to repeat.
 */
const HUB = 'insights-logs-amlworkspace';
const T = ['2024-05-01T08:00:00.000Z', '2024-05-01T09:00:00.000Z', '2024-05-01T10:00:00.000Z', '2024-05-01T11:00:00.000Z'];
let clock = Date.parse(T[0] as string);
let standIn: RunningEventHubsStandIn;

const jobId = (name: string) => {
  const r = parseArmId(`${WS}/jobs/${name}`)!;
  return nodeId(r.kind, r.key);
};
const message = (...runs: string[]) => ({ records: runs.map((r, i) => runStatusRecord(r, 'Running', `2024-05-01T07:0${i}:00Z`)) });

beforeAll(async () => {
  standIn = await startEventHubsStandIn({
    hubs: [{ name: HUB, partitionCount: 2, consumerGroups: ['rewind'] }],
    now: () => new Date(clock),
    log: () => undefined,
  });
  const producer = new EventHubProducerClient(standIn.connectionString(), HUB);
  const sends: Array<[string, string, unknown]> = [
    [T[0] as string, '0', message('a1', 'a2')],
    [T[1] as string, '1', message('b1')],
    [T[2] as string, '0', message('c1', 'c2')],
    [T[3] as string, '1', message('d1')],
  ];
  for (const [time, partitionId, body] of sends) {
    clock = Date.parse(time);
    await producer.sendBatch([{ body }], { partitionId });
  }
  await producer.close();
});
afterAll(async () => {
  await standIn?.stop();
});

const source = () => ({ hub: HUB, connection: standIn.connectionString() });
async function jobsIn(services: Services): Promise<string[]> {
  const found = [];
  for (const name of ['a1', 'a2', 'b1', 'c1', 'c2', 'd1']) if (await services.graph.readNode(jobId(name))) found.push(name);
  return found;
}

describe('rewind', () => {
  it('re-reads only the window asked for, with the delivery a live trigger records', async () => {
    const services = await freshServices();
    const seen: number[] = [];
    const reports = await rewindHub(
      services.capture,
      source(),
      { from: new Date(T[1] as string), to: new Date(T[2] as string), consumerGroup: 'rewind' },
      (p) => seen.push(p.events),
    );
    expect(await jobsIn(services)).toEqual(['b1', 'c1', 'c2']);
    expect(reports['0']).toMatchObject({ events: 1, records: 2, projected: 2, firstSequenceNumber: 1, lastSequenceNumber: 1 });
    expect(reports['1']).toMatchObject({ events: 1, records: 1, projected: 1, firstSequenceNumber: 0, lastSequenceNumber: 0 });
    expect(Math.max(...seen)).toBe(2);
    const c1 = await services.graph.readNode(jobId('c1'));
    expect(c1?.provenance[0]).toMatchObject({
      source: 'eventhubs',
      delivery: { partitionId: '0', eventHubName: HUB, sequenceNumber: 1, enqueuedTime: T[2], recordIndex: 0 },
    });
  });

  it('reads one partition when asked, and repeating it changes nothing', async () => {
    const services = await freshServices();
    const options = { from: new Date(T[0] as string), to: new Date(), partition: '1', consumerGroup: 'rewind' };
    await rewindHub(services.capture, source(), options);
    expect(await jobsIn(services)).toEqual(['b1', 'd1']);
    const snapshot = async () => {
      const docs = await services.graph.all();
      let raw = 0;
      for await (const _ of services.eventLog.scan()) raw++;
      return {
        raw,
        docs: docs.map((d) => JSON.stringify({ ...d, _ts: undefined, _etag: undefined, _rid: undefined, _self: undefined })).sort(),
      };
    };
    const before = await snapshot();
    const again = await rewindHub(services.capture, source(), options);
    expect(again['1']).toMatchObject({ events: 2, records: 2 });
    expect(await snapshot()).toEqual(before);
  });

  it('says what is wrong with its arguments', () => {
    const now = new Date('2024-06-01T00:00:00Z');
    expect(parseRewindArgs(['--from', '2024-05-01T08:00:00Z'], now)).toEqual({
      from: new Date('2024-05-01T08:00:00Z'),
      to: now,
      consumerGroup: 'rewind',
    });
    expect(parseRewindArgs(['--help'], now)).toBe('help');
    expect(() => parseRewindArgs([], now)).toThrow(/--from is required/);
    expect(() => parseRewindArgs(['--from', 'yesterday'], now)).toThrow(/--from must be an ISO 8601 time/);
    expect(() => parseRewindArgs(['--from', '2024-05-02T00:00:00Z', '--to', '2024-05-01T00:00:00Z'], now)).toThrow(/is before --from/);
    expect(() => parseRewindArgs(['--from', '2024-05-01T00:00:00Z', '--partition', 'x'], now)).toThrow(/--partition must be/);
    expect(() => parseRewindArgs(['--from', '2024-05-01T00:00:00Z', '--since', '1'], now)).toThrow(/--since/);
  });

  it('runs as npm run rewind does, with progress and a summary', async () => {
    const settings = testSettings();
    await freshServices({ COSMOS_DATABASE: settings.COSMOS_DATABASE, DEADLETTER_CONTAINER: settings.DEADLETTER_CONTAINER });
    const run = (args: string[]) =>
      new Promise<{ code: number; out: string; stdout: string }>((resolveRun) =>
        execFile(
          process.execPath,
          [join(ROOT, 'dist', 'infra', 'cli', 'rewind.js'), ...args],
          {
            env: {
              ...process.env,
              COSMOS_ENDPOINT: inject('cosmosEndpoint'),
              COSMOS_KEY: inject('cosmosKey'),
              COSMOS_DATABASE: settings.COSMOS_DATABASE,
              STORAGE_CONNECTION_STRING: inject('storageConnectionString'),
              DEADLETTER_CONTAINER: settings.DEADLETTER_CONTAINER,
              ENRICHMENT_QUEUE: settings.ENRICHMENT_QUEUE,
              EVENTHUB_CONNECTION: standIn.connectionString(),
              EVENTHUB_NAME: HUB,
            },
          },
          (error, stdout, stderr) => resolveRun({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}`, stdout }),
        ),
      );
    const help = await run(['--help']);
    expect(help).toMatchObject({ code: 0, out: expect.stringContaining('Usage: npm run rewind -- --from ISO_TIME') });
    const bad = await run(['--from', 'soon']);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/--from must be an ISO 8601 time/);
    const { code, out, stdout } = await run(['--from', T[0] as string]);
    expect(code, out).toBe(0);
    expect(out).toMatch(/rewind \[[=\- ]*\] 4\/4 events \| 6 records/);
    const summary = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { events: number; records: number; projected: number; failed: number };
    expect(summary).toMatchObject({ events: 4, records: 6, projected: 6, failed: 0 });
  });
});
