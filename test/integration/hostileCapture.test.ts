import { beforeEach, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/composition.js';
import type { DeadLetter } from '../../shared/store/deadLetters.js';
import { createCosmosClient } from '../../shared/store/cosmosClient.js';
import { EventLog } from '../../shared/store/eventLog.js';
import { captureEvent, MAX_EVENT_DEPTH } from '../../shared/usecases/captureEvent.js';
import { captureMonitorMessage } from '../../shared/usecases/captureMonitorMessage.js';
import { predictionRequest } from '../../shared/usecases/predictionRequest.js';
import { modelRegistered } from '../helpers/events.js';
import { graphSnapshot } from '../helpers/graph.js';
import { nested } from '../helpers/hostile.js';
import { canonicalJson, contentHash, jsonDepth } from '../../shared/util/canonicalJson.js';
import { runStatusRecord, trafficRecord } from '../helpers/monitorRecords.js';
import { freshServices } from '../helpers/stores.js';

/** Hostile events against the real stores: each is projected or dead-lettered with its reason, never lost. */
let services: Services;
beforeEach(async () => {
  services = await freshServices();
});

async function letters(): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  for await (const l of services.deadLetters.pending()) out.push(l.letter);
  return out;
}

async function rawLog(): Promise<string> {
  const out: string[] = [];
  for await (const r of services.eventLog.scan()) out.push(JSON.stringify(r));
  return out.join('\n');
}

describe('deeply nested events are dead-lettered with a reason naming the depth (hole 2)', () => {
  it('Event Grid: an event nested 10,000 levels completes as a dead letter instead of failing every delivery', async () => {
    const event = modelRegistered('credit', 3);
    (event.data as Record<string, unknown>).ModelTags = nested(10_000);
    const outcome = await captureEvent(services.capture, event);
    expect(outcome).toMatchObject({
      status: 'dead-lettered',
      eventId: 'reg-credit-3',
      reason: expect.stringMatching(/nested .*deeper than 100 levels/),
    });
    const [letter] = await letters();
    expect(letter).toMatchObject({
      hash: outcome.hash,
      channel: 'eventgrid',
      reason: outcome.status === 'dead-lettered' ? outcome.reason : '',
    });
    expect(letter?.issues[0]?.message).toContain(String(MAX_EVENT_DEPTH));
    // The whole event is kept in the letter (a later version with a higher limit can replay it).
    expect(jsonDepth(letter?.body)).toBe(10_002);
    expect(await graphSnapshot(services)).toEqual([]);
  });

  it('Event Grid: just past the limit is refused, at the limit is projected', async () => {
    const over = modelRegistered('credit', 4);
    (over.data as Record<string, unknown>).ModelTags = nested(MAX_EVENT_DEPTH - 1); // root, data, ModelTags: one too many
    expect(await captureEvent(services.capture, over)).toMatchObject({ status: 'dead-lettered' });
    const at = modelRegistered('credit', 5);
    (at.data as Record<string, unknown>).ModelTags = nested(MAX_EVENT_DEPTH - 2);
    expect(await captureEvent(services.capture, at)).toMatchObject({ status: 'projected' });
  });

  it('Event Hubs: a record nested 10,000 levels is dead-lettered with that reason, not lost as "stores unavailable"', async () => {
    const deep = { ...runStatusRecord('train-9', 'Running', '2024-05-01T08:00:00Z'), properties: nested(10_000) };
    const report = await captureMonitorMessage(
      services.capture,
      { records: [deep, runStatusRecord('train-9', 'Completed', '2024-05-01T09:00:00Z')] },
      { partitionId: '0' },
    );
    expect(report).toMatchObject({ records: 2, projected: 1, deadLettered: 1, failed: 0 });
    const [letter] = await letters();
    expect(letter).toMatchObject({ channel: 'eventhubs', delivery: { partitionId: '0', recordIndex: 0 } });
    expect(letter?.reason).toMatch(/nested .*deeper than 100 levels/);
    expect(letter?.reason).not.toMatch(/stores unavailable/);
  });

  it('Event Hubs: when the raw log is unreachable (a container that does not exist), each record still lands in a redacted dead letter', async () => {
    const client = await createCosmosClient(services.settings);
    const deps = { ...services.capture, eventLog: new EventLog(client.database('no-such-database').container('events'), services.meter) };
    const withPii = {
      ...runStatusRecord('train-9', 'Running', '2024-05-01T08:00:00Z'),
      callerIpAddress: '203.0.113.9',
      properties: { RunId: 'train-9', owner: 'jane.doe@contoso.com' },
    };
    const deep = { ...runStatusRecord('train-9', 'Completed', '2024-05-01T09:00:00Z'), properties: nested(5_000) };
    const report = await captureMonitorMessage(deps, { records: [withPii, deep] }, { partitionId: '1' });
    client.dispose();
    expect(report).toMatchObject({ records: 2, deadLettered: 2, failed: 0 });
    const byIndex = new Map((await letters()).map((l) => [l.delivery?.recordIndex, l]));
    expect(byIndex.get(0)?.reason).toMatch(/stores unavailable/);
    expect(byIndex.get(1)?.reason).toMatch(/deeper than 100 levels/);
    for (const letter of byIndex.values()) {
      const text = canonicalJson(letter.body);
      expect(text).not.toContain('203.0.113.9');
      expect(text).not.toContain('jane.doe');
      // Named by the hash of what it holds, like every other letter.
      expect(letter.hash).toBe(contentHash(letter.body));
    }
    expect(await rawLog()).toBe('');
  });
});

describe('special keys are stored as data (hole 10)', () => {
  it('the raw log keeps __proto__ and constructor keys with their content, and the hash verifies', async () => {
    const event = modelRegistered('credit', 6);
    event.data = JSON.parse(
      '{"ModelName":"credit","ModelVersion":"6","ModelTags":{"__proto__":{"team":"risk"},"constructor":"c"},"ModelProperties":{},"__proto__":{"x":[1,{"__proto__":"deep"}]}}',
    ) as unknown;
    const outcome = await captureEvent(services.capture, event);
    expect(outcome.status).toBe('projected');
    const logged = await services.eventLog.get(outcome.hash.replace('sha256:', ''));
    const data = (logged?.body as { data: Record<string, unknown> }).data;
    expect(Object.hasOwn(data, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(data, '__proto__')?.value).toEqual({ x: [1, JSON.parse('{"__proto__":"deep"}') as unknown] });
    const tags = data.ModelTags as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(tags, '__proto__')?.value).toEqual({ team: 'risk' });
    expect(tags.constructor).toBe('c');
    expect(contentHash(logged?.body)).toBe(outcome.hash);
    expect(canonicalJson(logged?.body)).toBe(canonicalJson(event));
  });
});

describe('personal data at any depth is redacted before it is stored (hole 3)', () => {
  const pii = { callerIpAddress: '203.0.113.70', note: 'owner jane.doe@contoso.com, from 198.51.100.4' };
  const expectNoneInClear = (text: string) => {
    expect(text).not.toContain('203.0.113.70');
    expect(text).not.toContain('198.51.100.4');
    expect(text).not.toContain('jane.doe');
  };

  it('Event Grid and Event Hubs: values 70 levels down are not in the raw log, the graph or a dead letter', async () => {
    const event = modelRegistered('credit', 7);
    (event.data as Record<string, unknown>).ModelTags = { deep: nested(70, pii) };
    expect((await captureEvent(services.capture, event)).status).toBe('projected');
    const record = {
      ...runStatusRecord('train-70', 'Running', '2024-05-01T08:00:00Z'),
      properties: { RunId: 'train-70', Status: 'Running', deep: nested(70, pii) },
    };
    const bad = { category: 'AmlRunStatusChangedEvent', properties: { RunId: 'no-time', deep: nested(70, pii) } };
    const report = await captureMonitorMessage(services.capture, { records: [record, bad] }, { partitionId: '0' });
    expect(report).toMatchObject({ projected: 1, deadLettered: 1, failed: 0 });
    expectNoneInClear(await rawLog());
    expectNoneInClear((await graphSnapshot(services)).join('\n'));
    expectNoneInClear(canonicalJson(await letters()));
  });

  it('values 10,000 levels down are not in clear in the dead letter of a too-deep event', async () => {
    const event = modelRegistered('credit', 8);
    (event.data as Record<string, unknown>).ModelTags = nested(10_000, pii);
    expect(await captureEvent(services.capture, event)).toMatchObject({ status: 'dead-lettered' });
    const report = await captureMonitorMessage(
      services.capture,
      { records: [{ ...runStatusRecord('t', 'Running', '2024-05-01T08:00:00Z'), properties: nested(10_000, pii) }] },
      {},
    );
    expect(report).toMatchObject({ deadLettered: 1, failed: 0 });
    const stored = await letters();
    expect(stored).toHaveLength(2);
    expectNoneInClear(canonicalJson(stored));
  });
});

describe('connection-string secrets are redacted whatever their length (hole 4)', () => {
  it('AccountKey=abc123XYZ== in a model property is stored nowhere in clear', async () => {
    const event = modelRegistered('credit', 9);
    (event.data as Record<string, unknown>).ModelProperties = {
      conn: 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc123XYZ==',
      AccountKey: 'k1',
    };
    expect((await captureEvent(services.capture, event)).status).toBe('projected');
    const stored = `${await rawLog()}\n${(await graphSnapshot(services)).join('\n')}`;
    expect(stored).not.toContain('abc123XYZ');
    expect(stored).not.toContain('"k1"');
    expect(stored).toContain('AccountName=acct;pii:storage-secret:');
  });
});

describe('Event Hubs messages found hostile by the fuzz suite', () => {
  it('a message of 100,000 records (1 MB of junk) is one dead letter, not 100,000', async () => {
    const started = Date.now();
    const report = await captureMonitorMessage(
      services.capture,
      { records: Array.from({ length: 100_000 }, () => 1) },
      { partitionId: '0' },
    );
    expect(report).toMatchObject({ records: 0, deadLettered: 1, failed: 0 });
    expect(Date.now() - started).toBeLessThan(20_000);
    const [letter] = await letters();
    expect(letter?.reason).toMatch(/100000 records, more than 10000/);
  });

  it('a body that is not JSON is dead-lettered without quoting personal data in the reason', async () => {
    // V8 quotes the start of such a body in its error message.
    const text = 'jane.doe@contoso.com wrote {"records": []}';
    const report = await captureMonitorMessage(services.capture, text, { partitionId: '0' });
    expect(report).toMatchObject({ deadLettered: 1, failed: 0 });
    const [letter] = await letters();
    expect(letter?.reason).toMatch(/not JSON/);
    expect(canonicalJson(letter)).not.toContain('jane.doe');
  });
});

describe('dead letters are keyed by channel and hash (hole 9)', () => {
  it('an Event Hubs letter does not overwrite an Event Grid letter with the same body', async () => {
    const body = { records: 'not a list' };
    const common = { hash: contentHash(body), receivedAt: '2024-05-01T00:00:00.000Z', issues: [], body };
    const grid = await services.deadLetters.put({ ...common, channel: 'eventgrid', reason: 'from Event Grid' });
    const hubs = await services.deadLetters.put({ ...common, channel: 'eventhubs', reason: 'from Event Hubs' });
    expect(grid).not.toBe(hubs);
    const stored = await letters();
    expect(stored.map((l) => [l.channel, l.reason, l.attempts]).sort()).toEqual([
      ['eventgrid', 'from Event Grid', 1],
      ['eventhubs', 'from Event Hubs', 1],
    ]);
    // The same channel again is the same letter, one attempt more.
    await services.deadLetters.put({ ...common, channel: 'eventgrid', reason: 'from Event Grid' });
    expect((await services.deadLetters.read(grid))?.attempts).toBe(2);
    expect((await services.deadLetters.read(hubs))?.attempts).toBe(1);
  });
});

describe('prediction request ids keep their case (hole 13)', () => {
  it('ids that differ only in case are two requests; a GUID is found in any case', async () => {
    const guid = '6f1c2a9e-8b0d-4e3f-9a1b-2c3d4e5f6a7b';
    const message = {
      records: [
        trafficRecord('Req-Case', 'credit-scoring', 'blue', '2024-05-02T10:00:00Z'),
        trafficRecord('req-case', 'credit-scoring', 'green', '2024-05-02T10:00:01Z'),
        trafficRecord(guid, 'credit-scoring', 'blue', '2024-05-02T10:00:02Z'),
      ],
    };
    expect(await captureMonitorMessage(services.capture, message, { partitionId: '0' })).toMatchObject({ projected: 3, failed: 0 });
    const answer = async (id: string) => predictionRequest(services.graph, services.predictionRequests, id, 1, 10);
    expect(await answer('Req-Case')).toMatchObject({ requestId: 'Req-Case', deploymentArmId: expect.stringMatching(/blue$/i) });
    expect(await answer('req-case')).toMatchObject({ requestId: 'req-case', deploymentArmId: expect.stringMatching(/green$/i) });
    await expect(answer('REQ-CASE')).rejects.toMatchObject({ code: 'not-found' });
    expect(await answer(guid.toUpperCase())).toMatchObject({ requestId: guid });
  });
});

describe('permanent store refusals are dead-lettered, not retried forever (hole 8)', () => {
  it('an event whose 1.2 MB id makes the log document too large for Cosmos DB is a dead letter naming the size', async () => {
    const event = modelRegistered('credit', 8);
    event.id = 'x'.repeat(1_200_000);
    const outcome = await captureEvent(services.capture, event);
    expect(outcome).toMatchObject({ status: 'dead-lettered', reason: expect.stringMatching(/too large/) });
    const [letter] = await letters();
    expect(letter).toMatchObject({ hash: outcome.hash, channel: 'eventgrid', reason: expect.stringMatching(/too large/) });
    expect(await graphSnapshot(services)).toEqual([]);
    // Redelivered, it is the same letter again: the delivery completes every time.
    expect(await captureEvent(services.capture, event)).toMatchObject({ status: 'dead-lettered' });
    expect((await letters())[0]?.attempts).toBe(2);
  });
});
