import { EventHubProducerClient, earliestEventPosition, latestEventPosition } from '@azure/event-hubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EMULATOR_KEY,
  EMULATOR_KEY_NAME,
  startEventHubsStandIn,
  type RunningEventHubsStandIn,
} from '../../infra/local/eventHubsStandIn/index.js';
import { parseSelectorFilter } from '../../infra/local/eventHubsStandIn/positions.js';
import { verifySasToken } from '../../infra/local/eventHubsStandIn/sas.js';
import { receive, sasToken } from '../helpers/eventHubs.js';

/**
 * The local Event Hubs stand-in, driven by the real @azure/event-hubs clients over AMQP through a
 * `UseDevelopmentEmulator=true` connection string, in process on a free loopback port.
 */
let standIn: RunningEventHubsStandIn;
let clock = Date.parse('2024-05-01T08:00:00Z');
const HUB = 'insights-logs-amlworkspace';
beforeAll(async () => {
  standIn = await startEventHubsStandIn({
    hubs: [{ name: HUB, partitionCount: 4, consumerGroups: ['lineage'] }, { name: 'retained', partitionCount: 1 }, { name: 'other' }],
    retentionMs: 60 * 60 * 1000,
    now: () => new Date(clock),
    log: () => undefined,
  });
});
afterAll(async () => {
  await standIn?.stop();
});

const producer = (hub = HUB, connectionString = standIn.connectionString()) =>
  new EventHubProducerClient(connectionString, hub, { retryOptions: { maxRetries: 0, timeoutInMs: 5_000 } });

describe('Event Hubs stand-in: management node', () => {
  it('answers hub and partition properties as the client reads them', async () => {
    const client = producer();
    try {
      const hub = await client.getEventHubProperties();
      expect(hub).toMatchObject({ name: HUB, partitionIds: ['0', '1', '2', '3'] });
      expect(hub.createdOn).toEqual(new Date(clock));
      expect(await client.getPartitionProperties('3')).toMatchObject({
        partitionId: '3',
        eventHubName: HUB,
        isEmpty: true,
        beginningSequenceNumber: 0,
        lastEnqueuedSequenceNumber: -1,
        lastEnqueuedOffset: '-1',
      });
      await expect(client.getPartitionProperties('9')).rejects.toThrow(/no partition "9"/);
    } finally {
      await client.close();
    }
    const missing = producer('no-such-hub');
    await expect(missing.getEventHubProperties()).rejects.toThrow(/could not be found/);
    await missing.close();
  });
});

describe('Event Hubs stand-in: claims-based authorization', () => {
  it('refuses a wrong key, an expired token and a token scoped to another hub', async () => {
    const wrong = producer(HUB, standIn.connectionString().replace(EMULATOR_KEY, 'not-the-key'));
    await expect(wrong.getPartitionIds()).rejects.toThrow(/signature does not match/);
    await wrong.close();

    const now = Math.floor(clock / 1000); // the stand-in's clock
    const withToken = (resource: string, expires: number) =>
      `Endpoint=${standIn.url};SharedAccessSignature=${sasToken(resource, EMULATOR_KEY_NAME, EMULATOR_KEY, expires)};UseDevelopmentEmulator=true`;
    const expired = producer(HUB, withToken(`${standIn.url}/${HUB}`, now - 60));
    await expect(expired.getPartitionIds()).rejects.toThrow(/expired/);
    await expired.close();
    const elsewhere = producer(HUB, withToken(`${standIn.url}/other`, now + 600));
    await expect(elsewhere.sendBatch([{ body: 'x' }], { partitionId: '0' })).rejects.toThrow(/does not cover/);
    await elsewhere.close();
    const scoped = producer(HUB, withToken(`${standIn.url}/${HUB}`, now + 600));
    await scoped.sendBatch([{ body: 'scoped' }], { partitionId: '0' });
    await scoped.close();
  });

  it('checks signatures the way the service defines them', () => {
    const keys = { k: 'secret' };
    const now = new Date('2024-05-01T00:00:00Z');
    const token = sasToken('sb://ns.servicebus.windows.net/Hub', 'k', 'secret', now.getTime() / 1000 + 60);
    expect(verifySasToken(token, keys, now)).toMatchObject({ ok: true, claim: { scope: 'hub', keyName: 'k' } });
    expect(verifySasToken(token.replace('skn=k', 'skn=x'), keys, now)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unknown/),
    });
    expect(verifySasToken(token, { k: 'other' }, now)).toMatchObject({ ok: false });
    expect(verifySasToken('Bearer abc', keys, now)).toMatchObject({ ok: false, reason: 'not a shared access signature' });
  });
});

describe('Event Hubs stand-in: send and receive', () => {
  it('keeps partitions apart with sequence numbers, byte offsets and enqueued times, and reads from any position', async () => {
    const client = producer();
    const t0 = clock;
    const batch = await client.createBatch({ partitionId: '1' });
    expect(batch.maxSizeInBytes).toBe(1024 * 1024); // the link's max-message-size
    for (let i = 0; i < 5; i++) expect(batch.tryAdd({ body: { records: [{ i }] }, properties: { n: i } })).toBe(true);
    await client.sendBatch(batch);
    clock += 60_000;
    await client.sendBatch([{ body: 'later' }], { partitionId: '1' });
    await client.sendBatch([{ body: 'a' }, { body: 'b' }], { partitionKey: 'workspace-7' });
    await client.sendBatch([{ body: 'c' }], { partitionKey: 'workspace-7' });
    const props = await client.getPartitionProperties('1');
    await client.close();

    const all = await receive(standIn.connectionString(), HUB, '1', earliestEventPosition, 6);
    expect(all.errors).toEqual([]);
    expect(all.events.map((e) => e.sequenceNumber)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(all.events.map((e) => e.body)).toEqual([...[0, 1, 2, 3, 4].map((i) => ({ records: [{ i }] })), 'later']);
    expect(all.events.map((e) => e.properties?.n)).toEqual([0, 1, 2, 3, 4, undefined]);
    const offsets = all.events.map((e) => Number(e.offset));
    expect(offsets[0]).toBe(0);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBeGreaterThan(offsets[i - 1] as number);
    expect(all.events[0]?.enqueuedTimeUtc).toEqual(new Date(t0));
    expect(all.events[5]?.enqueuedTimeUtc).toEqual(new Date(t0 + 60_000));
    expect(props).toMatchObject({ isEmpty: false, lastEnqueuedSequenceNumber: 5, lastEnqueuedOffset: all.events[5]?.offset });

    const third = all.events[2]!;
    const fromSequence = await receive(standIn.connectionString(), HUB, '1', { sequenceNumber: 2 }, 3);
    expect(fromSequence.events.map((e) => e.sequenceNumber)).toEqual([3, 4, 5]);
    const inclusive = await receive(standIn.connectionString(), HUB, '1', { sequenceNumber: 2, isInclusive: true }, 4);
    expect(inclusive.events[0]?.sequenceNumber).toBe(2);
    const fromOffset = await receive(standIn.connectionString(), HUB, '1', { offset: third.offset }, 3); // how a checkpoint resumes
    expect(fromOffset.events.map((e) => e.sequenceNumber)).toEqual([3, 4, 5]);
    const afterTime = await receive(standIn.connectionString(), HUB, '1', { enqueuedOn: new Date(t0) }, 1);
    expect(afterTime.events.map((e) => e.body)).toEqual(['later']);

    // One key, one partition, in order; the events carry their key.
    const keyed = [];
    for (const id of ['0', '2', '3'])
      keyed.push(...(await receive(standIn.connectionString(), HUB, id, earliestEventPosition, 3, { timeoutMs: 1500 })).events);
    const withKey = keyed.filter((e) => e.partitionKey === 'workspace-7');
    expect(withKey.map((e) => e.body)).toEqual(['a', 'b', 'c']);
  });

  it('delivers events enqueued after a latest-position receiver opened, and only those', async () => {
    const reading = receive(standIn.connectionString(), HUB, '2', latestEventPosition, 1, { timeoutMs: 8_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const client = producer();
    await client.sendBatch([{ body: 'fresh' }], { partitionId: '2' });
    await client.close();
    const { events } = await reading;
    expect(events.map((e) => e.body)).toEqual(['fresh']);
  });

  it('lets a higher owner level take a partition over and refuses unknown consumer groups', async () => {
    const first = receive(standIn.connectionString(), HUB, '0', earliestEventPosition, 1000, { ownerLevel: 1, timeoutMs: 8_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const second = await receive(standIn.connectionString(), HUB, '0', earliestEventPosition, 1, { ownerLevel: 2 });
    expect(second.errors).toEqual([]);
    expect((await first).errors.map((e) => e.message).join()).toMatch(/owner level 2 took over/);

    const unknown = await receive(standIn.connectionString(), HUB, '0', earliestEventPosition, 1, { consumerGroup: 'nobody' });
    expect(unknown.errors.map((e) => e.message).join()).toMatch(/consumer group "nobody" does not exist/);
    const named = await receive(standIn.connectionString(), HUB, '1', earliestEventPosition, 1, { consumerGroup: 'Lineage' });
    expect(named.events).toHaveLength(1);
  });

  it('drops events past the retention period and moves the beginning sequence number', async () => {
    const client = producer('retained');
    await client.sendBatch([{ body: 'old' }]);
    clock += 2 * 60 * 60 * 1000;
    await client.sendBatch([{ body: 'new' }]);
    expect(await client.getPartitionProperties('0')).toMatchObject({ beginningSequenceNumber: 1, lastEnqueuedSequenceNumber: 1 });
    await client.close();
    const { events } = await receive(standIn.connectionString(), 'retained', '0', earliestEventPosition, 1);
    expect(events.map((e) => [e.sequenceNumber, e.body])).toEqual([[1, 'new']]);
  });
});

describe('Event Hubs stand-in: selector filters', () => {
  it('parses the positions the client sends and refuses anything else', () => {
    expect(parseSelectorFilter("amqp.annotation.x-opt-offset > '-1'")).toEqual({ kind: 'offset', value: -1, inclusive: false });
    expect(parseSelectorFilter("amqp.annotation.x-opt-offset > '@latest'")).toEqual({ kind: 'latest' });
    expect(parseSelectorFilter("amqp.annotation.x-opt-sequence-number >= '41'")).toEqual({
      kind: 'sequenceNumber',
      value: 41,
      inclusive: true,
    });
    expect(parseSelectorFilter("amqp.annotation.x-opt-enqueued-time > '1714550400000'")).toEqual({
      kind: 'enqueuedTime',
      value: 1714550400000,
      inclusive: false,
    });
    expect(() => parseSelectorFilter("amqp.annotation.x-opt-offset < '5'")).toThrow(/unsupported selector filter/);
    expect(() => parseSelectorFilter("amqp.annotation.x-opt-sequence-number > 'abc'")).toThrow(/needs an integer/);
  });
});
