import { earliestEventPosition } from '@azure/event-hubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSampleWorkspace, SAMPLE_IDS } from '../../infra/local/azureMlStandIn/index.js';
import { startEventHubsStandIn, type RunningEventHubsStandIn } from '../../infra/local/eventHubsStandIn/index.js';
import type { Services } from '../../shared/composition.js';
import { checkEvent } from '../../shared/ingest/openlineage/schema.js';
import { normalizeOpenLineageEvent } from '../../shared/ingest/openlineage/events.js';
import { EventHubPublisher } from '../../shared/publish/eventHubPublisher.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { replay } from '../../shared/usecases/replay.js';
import { receive } from '../helpers/eventHubs.js';
import { fixture } from '../helpers/fixtures.js';
import { freshServices } from '../helpers/stores.js';

/**
 * OpenLineage out: with OPENLINEAGE_EVENTHUB_* set, the jobs a captured event touches go to the
 * Event Hub as RunEvents through the real EventHubProducerClient, here against the AMQP stand-in,
 * and come back out of it through the real consumer as events the spec accepts.
 */
const HUB = 'lineage-out';
let hubs: RunningEventHubsStandIn;
let services: Services;

beforeAll(async () => {
  hubs = await startEventHubsStandIn({ hubs: [{ name: HUB, partitionCount: 2 }], log: () => undefined });
  services = await freshServices({ OPENLINEAGE_EVENTHUB_NAME: HUB, OPENLINEAGE_EVENTHUB_CONNECTION: hubs.connectionString() });
});
afterAll(async () => {
  await (services?.capture.publisher as EventHubPublisher | undefined)?.close();
  await hubs?.stop();
});

async function published(count: number): Promise<Array<Record<string, unknown>>> {
  const all = [];
  for (const partition of ['0', '1']) {
    const { events, errors } = await receive(hubs.connectionString(), HUB, partition, earliestEventPosition, count, { timeoutMs: 1500 });
    expect(errors).toEqual([]);
    all.push(...events.map((e) => e.body as Record<string, unknown>));
  }
  return all;
}

const resource = (armId: string) => createSampleWorkspace().resources.find((r) => r.id === armId);
const observe = (armId: string) => ({ kind: 'job', armId, apiVersion: '2025-12-01', status: 200, resource: resource(armId) });

describe('publishing our lineage as OpenLineage RunEvents to an Event Hub', () => {
  it('sends each job an event touched, with its inputs and outputs, valid against the spec; our endpoint reads them back', async () => {
    await captureEvent(services.capture, observe(SAMPLE_IDS.jobs.prep), { channel: 'rest', followUp: true });
    const events = await published(1);
    expect(events).toHaveLength(1);
    const event = events[0] as Record<string, unknown> & {
      job: { name: string };
      inputs: Array<{ name: string }>;
      outputs: Array<{ namespace: string; name: string }>;
    };
    expect(checkEvent(event)).toMatchObject({ ok: true, kind: 'RunEvent' });
    expect(event).toMatchObject({ eventType: 'COMPLETE', job: { name: SAMPLE_IDS.jobNames.prep } });
    expect(event.inputs.map((i) => i.name)).toEqual(
      expect.arrayContaining([expect.stringContaining('data/credit-applications/versions/3')]),
    );
    expect(event.outputs.map((o) => `${o.namespace}/${o.name}`)).toEqual([
      expect.stringMatching(/datastores\/workspaceblobstore\/paths\/.*prepared_data$/),
    ]);
    const back = normalizeOpenLineageEvent(event);
    expect(back.ok && back.delta.edges.some((e) => e.kind === 'inputOf' && e.from.label === 'credit-applications:3')).toBe(true);
  });

  it('each job goes out when an event touches it; OpenLineage that came in and replays are not sent out', async () => {
    await captureEvent(services.capture, observe(SAMPLE_IDS.jobs.train), { channel: 'rest', followUp: true });
    const two = await published(2);
    expect(two.map((e) => (e.job as { name: string }).name).sort()).toEqual([SAMPLE_IDS.jobNames.prep, SAMPLE_IDS.jobNames.train]);
    expect(two.every((e) => checkEvent(e).ok)).toBe(true);
    await captureEvent(services.capture, fixture('openlineage/openlineage-RunEvent-complete.json'), { channel: 'openlineage' });
    const report = await replay(services.capture, { deadLetters: false });
    expect(report.events.projected).toBeGreaterThanOrEqual(3);
    expect(await published(10)).toHaveLength(2);
  });
});
