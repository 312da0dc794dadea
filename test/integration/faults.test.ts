import { InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureEventGrid } from '../../functions/captureEventGrid.js';
import { captureEventHub } from '../../functions/captureEventHub.js';
import { enrichResource } from '../../functions/enrichResource.js';
import { maintainClosuresFunction } from '../../functions/maintainClosures.js';
import { SAMPLE_IDS, startAzureMlStandIn, type AzureMlStandIn } from '../../infra/local/azureMlStandIn/index.js';
import type { TriggerFunction } from '../../shared/api/app.js';
import { getServices, type Services } from '../../shared/composition.js';
import { enrichmentMessageSchema } from '../../shared/ingest/enrichmentMessage.js';
import { createCosmosClient, ensureCosmos } from '../../shared/store/cosmosClient.js';
import { letterName } from '../../shared/store/deadLetters.js';
import { captureEvent, prepareEvent } from '../../shared/usecases/captureEvent.js';
import { captureMonitorMessage } from '../../shared/usecases/captureMonitorMessage.js';
import { maintainClosures } from '../../shared/usecases/closures.js';
import { enrich } from '../../shared/usecases/enrich.js';
import { replay } from '../../shared/usecases/replay.js';
import { canonicalJson } from '../../shared/util/canonicalJson.js';
import { mapLimited } from '../../shared/util/mapLimited.js';
import { modelDeployed, modelRegistered, runEvent, driftDetected } from '../helpers/events.js';
import { FAULT_KINDS, startFaultProxy, type FaultProxy } from '../helpers/faultProxy.js';
import { graphSnapshot } from '../helpers/graph.js';
import { nested } from '../helpers/hostile.js';
import { activityWrite, runStatusRecord, trafficRecord } from '../helpers/monitorRecords.js';
import { cosmosContainers, freshServices, testSettings } from '../helpers/stores.js';

/**
 * A stream of a few hundred Event Grid events and Event Hubs records goes through the real
 * function handlers while proxies in front of the Cosmos DB server, Azurite's Blob service and the
 * Azure ML REST stand-in fail 20% of requests on the wire (429, 503, connection resets before and after
 * the service did the work). What failed is redelivered as the platforms do: Event Grid retries a
 * delivery that threw, the Event Hubs trigger's retry policy re-runs a batch that threw, records
 * dead-lettered as "stores unavailable" and enrichment requests that ran out of deliveries are
 * replayed, and the enrichment queue redelivers what threw. Then every event must have landed
 * exactly once: the graph, the raw log, the request traces and the dead letters equal those of
 * the same stream delivered without faults, and the enrichment queue is empty.
 * FAULT_SEED replays a failure.
 */
const RATE = 0.2;
const OUTAGE_MS = 4000;
const SEED = Number(process.env.FAULT_SEED ?? 16);
const FIXED_NOW = () => new Date('2024-06-01T00:00:00.000Z');
const SAMPLE_WS = SAMPLE_IDS.workspace;
const MODEL_WRITE = 'Microsoft.MachineLearningServices/workspaces/models/versions/write';
const HUB_NAME = 'faults';

type Raw = Record<string, unknown>;

function eventGridStream(): Raw[] {
  const events: Raw[] = [];
  for (let i = 0; i < 60; i++) {
    const minute = String(i % 60).padStart(2, '0');
    events.push(
      runEvent('RunStatusChanged', `fault-run-${i}`, { status: 'Running', time: `2024-03-01T08:${minute}:00Z` }),
      runEvent('RunCompleted', `fault-run-${i}`, { time: `2024-03-01T09:${minute}:00Z`, git: i % 5 === 0 }),
      modelRegistered(`fault-model-${i % 20}`, i, { id: `fault-reg-${i}`, time: `2024-03-01T10:${minute}:00Z` }),
      modelDeployed(`fault-svc-${i % 10}`, `fault-model-${i % 20}:${i}`, { id: `fault-dep-${i}`, time: `2024-03-01T11:${minute}:00Z` }),
    );
  }
  // Models of the stand-in's workspace, so enrichment fetches real answers (and their follow-ups).
  for (const version of [1, 2, 3]) {
    const event = modelRegistered('credit-default', version, { id: `fault-sample-${version}` });
    event.topic = SAMPLE_WS;
    events.push(event);
  }
  events.push(driftDetected('fault-monitor', 'fault-monitor_1'));
  // Refused by design: they must end as dead letters with their reason, faults or not.
  events.push(modelDeployed('fault-svc-0', 'not-a-model-id', { id: 'fault-refused' }));
  events.push({ ...modelRegistered('fault-deep', 1, { id: 'fault-deep' }), data: nested(150) });
  return events;
}

function eventHubStream(): Raw[] {
  return Array.from({ length: 40 }, (_, i) => {
    const time = `2024-05-01T08:${String(i).padStart(2, '0')}:00Z`;
    return {
      records: [
        runStatusRecord(`hub-run-${i}`, i % 2 ? 'Completed' : 'Running', time),
        trafficRecord(`fault-req-${i}`, 'credit-scoring', i % 2 ? 'blue' : 'green', time),
        activityWrite(`${SAMPLE_WS}/models/credit-default/versions/${1 + (i % 3)}`, time, MODEL_WRITE),
      ],
    };
  });
}

const GRID = eventGridStream();
const HUB = eventHubStream();
const RECORDS = HUB.flatMap((m) => m.records as Raw[]);

const handlerOf = (fn: TriggerFunction) => fn.options.handler as (input: unknown, context: InvocationContext) => Promise<unknown>;
const onEventGrid = handlerOf(captureEventGrid);
const onEventHub = handlerOf(captureEventHub);
const onEnrichment = handlerOf(enrichResource);
const onClosures = handlerOf(maintainClosuresFunction);

const hubMetadata = (i: number) => ({ partitionContext: { partitionId: '0', eventHubName: HUB_NAME }, sequenceNumberArray: [i] });
const context = (triggerMetadata: Record<string, unknown> = {}, retryCount = 0) => {
  const ctx = new InvocationContext({
    functionName: 'faults',
    invocationId: 'faults',
    logHandler: () => undefined,
    retryContext: { retryCount, maxRetryCount: 5 },
  });
  ctx.triggerMetadata = triggerMetadata;
  return ctx;
};

/** Works the enrichment queue as the queue trigger does: a message that throws comes back after its visibility timeout. */
async function drainQueue(services: Services, work: (message: unknown, dequeueCount: number) => Promise<void>): Promise<number> {
  const queue = services.enrichmentQueue.client;
  let failed = 0;
  for (let round = 0; round < 400; round++) {
    const { receivedMessageItems: batch } = await queue.receiveMessages({ numberOfMessages: 16, visibilityTimeout: 1 });
    if (batch.length === 0) {
      if ((await queue.getProperties()).approximateMessagesCount === 0) return failed;
      await new Promise((resolve) => setTimeout(resolve, 300));
      continue;
    }
    await mapLimited(batch, 8, async (m) => {
      const message = JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as unknown;
      try {
        await work(message, m.dequeueCount);
        await queue.deleteMessage(m.messageId, m.popReceipt);
      } catch {
        failed++; // left on the queue: it is delivered again
      }
    });
  }
  throw new Error('the enrichment queue did not drain');
}

/** What the stores hold, in a comparable form. */
async function contents(services: Services) {
  const ids: string[] = [];
  for await (const raw of services.eventLog.scan()) ids.push(raw.id);
  const letters: string[] = [];
  for await (const { name, letter } of services.deadLetters.pending()) letters.push(`${name} ${letter.reason}`);
  const containers = await cosmosContainers(services);
  const { resources: requests } = await containers.requests.items.readAll().fetchAll();
  const { resources: closures } = await containers.graph.items.query('SELECT * FROM c WHERE c.docType = "closure"').fetchAll();
  return {
    graph: await graphSnapshot(services),
    closures: closures.map(({ _rid, _self, _etag, _attachments, _ts, ...doc }) => canonicalJson(doc)).sort(),
    rawLog: ids.sort(),
    letters: letters.sort(),
    requests: requests.map(({ _rid, _self, _etag, _attachments, _ts, ...doc }) => canonicalJson(doc)).sort(),
  };
}

const transientLetter = (reason: string) => /^stores unavailable|^failed after \d+ deliveries/.test(reason);

let standIn: AzureMlStandIn;
let cosmosProxy: FaultProxy;
let restProxy: FaultProxy;
let blobProxy: FaultProxy;
const saved = { ...process.env };

beforeAll(async () => {
  standIn = await startAzureMlStandIn({ port: 0 });
  const direct = testSettings();
  cosmosProxy = await startFaultProxy({ target: direct.COSMOS_ENDPOINT, rate: RATE, seed: SEED, dialect: 'cosmos' });
  restProxy = await startFaultProxy({ target: standIn.url, rate: RATE, seed: SEED + 1, dialect: 'arm' });
  // Blob Storage (dead letters, the identity vault) behind one too; the queue stays direct, as the
  // test itself works it.
  const blobEndpoint = /BlobEndpoint=([^;]+)/.exec(direct.STORAGE_CONNECTION_STRING ?? '')?.[1];
  if (!blobEndpoint) throw new Error('no BlobEndpoint in the test storage connection string');
  const blobUrl = new URL(blobEndpoint);
  blobProxy = await startFaultProxy({ target: `${blobUrl.origin}/`, rate: RATE, seed: SEED + 2, dialect: 'storage' });
  const proxiedBlobs = `${blobProxy.url}${blobUrl.pathname.slice(1)}`;
  const client = await createCosmosClient(direct);
  await ensureCosmos(client, direct.COSMOS_DATABASE);
  client.dispose();
  // The handlers build their services from app settings, as in Azure: here they point at the proxies.
  for (const [k, v] of Object.entries({
    COSMOS_ENDPOINT: cosmosProxy.url,
    COSMOS_KEY: direct.COSMOS_KEY,
    COSMOS_DATABASE: direct.COSMOS_DATABASE,
    STORAGE_CONNECTION_STRING: (direct.STORAGE_CONNECTION_STRING ?? '').replace(blobEndpoint, proxiedBlobs),
    DEADLETTER_CONTAINER: direct.DEADLETTER_CONTAINER,
    ENRICHMENT_QUEUE: direct.ENRICHMENT_QUEUE,
    CLOSURE_QUEUE: direct.CLOSURE_QUEUE,
    IDENTITY_CONTAINER: direct.IDENTITY_CONTAINER,
    AZUREML_MANAGEMENT_ENDPOINT: restProxy.url.replace(/\/$/, ''),
    AZUREML_REST_TIMEOUT_MS: '2000',
  }))
    process.env[k] = v;
});

afterAll(async () => {
  process.env = { ...saved };
  await cosmosProxy?.stop();
  await restProxy?.stop();
  await blobProxy?.stop();
  await standIn?.stop();
});

describe('20% injected Cosmos DB, Blob and REST failures on the wire (429, 503, resets)', () => {
  it('every Event Grid event and Event Hubs record lands exactly once after redelivery', async () => {
    const services = await getServices();
    services.capture.now = services.enrich.now = FIXED_NOW;
    await services.ensureStorage();
    const figures = {
      events: GRID.length + RECORDS.length,
      eventGrid: { deliveries: 0, redeliveries: 0 },
      eventHubs: { batches: HUB.length, reruns: 0, givenUp: 0 },
      enrichment: { failedDeliveries: 0 },
      replays: { rounds: 0, lettersResolved: 0, interrupted: 0 },
      closureStage: { runs: 0 },
      injected: {} as Record<string, number>,
      requests: 0,
      lost: 0,
      duplicated: 0,
      seconds: {} as Record<string, number>,
    };
    let phaseStart = Date.now();
    const phase = (name: string) => {
      figures.seconds[name] = (Date.now() - phaseStart) / 1000;
      phaseStart = Date.now();
    };

    // Event Grid: a delivery that throws is retried (with backoff in Azure; at once here). The first
    // deliveries run into a Cosmos DB outage longer than the in-process retries (about 1.5 s), so
    // some always need the platform's redelivery, whatever the seeded faults after it do.
    cosmosProxy.outage(OUTAGE_MS);
    let pending = GRID.map((_, i) => i);
    for (let round = 0; pending.length > 0 && round < 30; round++) {
      if (round > 0) figures.eventGrid.redeliveries += pending.length;
      figures.eventGrid.deliveries += pending.length;
      const failed = await mapLimited(pending, 8, (i) =>
        onEventGrid(structuredClone(GRID[i]), context()).then(
          () => undefined,
          () => i,
        ),
      );
      pending = failed.filter((i): i is number => i !== undefined);
    }
    expect(pending, 'Event Grid deliveries still failing after 30 attempts').toEqual([]);
    phase('eventGrid');

    // Event Hubs: one partition, batches in order; the retry policy re-runs a batch that threw.
    for (const [i, message] of HUB.entries()) {
      let done = false;
      for (let retry = 0; retry <= 5 && !done; retry++) {
        if (retry > 0) figures.eventHubs.reruns++;
        done = await onEventHub([structuredClone(message)], context(hubMetadata(i), retry)).then(
          () => true,
          () => false,
        );
      }
      if (!done) figures.eventHubs.givenUp++;
    }
    phase('eventHubs');

    // Recovery: the queue redelivers enrichment; dead letters written while the stores failed are
    // replayed (what `POST /api/replay` queues), until none is left for a transient reason.
    for (let round = 0; round < 30; round++) {
      figures.enrichment.failedDeliveries += await drainQueue(services, async (message, dequeueCount) => {
        await onEnrichment(message, context({ dequeueCount }));
      });
      const transient: string[] = [];
      for await (const { letter } of services.deadLetters.pending()) if (transientLetter(letter.reason)) transient.push(letter.reason);
      if (transient.length === 0) break;
      figures.replays.rounds++;
      try {
        figures.replays.lettersResolved += (await replay(services.capture, { events: false })).deadLetters.resolved;
      } catch {
        figures.replays.interrupted++; // a store failed mid-replay: the next round picks up
      }
    }

    phase('recovery');

    // The closure stage under the same faults: a run that throws is delivered again, and its
    // links stay pending until one succeeds.
    for (let done = false; !done;) {
      if (++figures.closureStage.runs > 30) throw new Error('the closure stage kept failing');
      done = await onClosures({ newLinks: 0, eventId: 'faults' }, context()).then(
        () => true,
        () => false,
      );
    }
    phase('closureStage');

    // Read back without faults.
    const proxies = { cosmos: cosmosProxy, rest: restProxy, blob: blobProxy };
    for (const [name, proxy] of Object.entries(proxies)) {
      proxy.enabled = false;
      figures.requests += proxy.requests;
      figures.injected[name] = FAULT_KINDS.reduce((n, k) => n + proxy.injected[k], 0);
      for (const kind of FAULT_KINDS) figures.injected[kind] = (figures.injected[kind] ?? 0) + proxy.injected[kind];
    }
    const faulty = await contents(services);
    expect((await services.enrichmentQueue.client.getProperties()).approximateMessagesCount).toBe(0);

    // Nothing lost: each event is in the raw log or dead-lettered with a reason.
    const landed = async (event: unknown, channel: string) => {
      const { hash } = prepareEvent(event, services.capture);
      if (await services.eventLog.get(hash.replace(/^sha256:/, ''))) return true;
      const letter = await services.deadLetters.read(letterName('pending', channel, hash));
      return letter !== undefined && letter.reason.trim().length > 0 && !transientLetter(letter.reason);
    };
    for (const e of GRID) if (!(await landed(e, 'eventgrid'))) figures.lost++;
    for (const r of RECORDS) if (!(await landed(r, 'eventhubs'))) figures.lost++;

    // Exactly once: the same stream without faults gives the same stores, document for document.
    const reference = await freshServices({ AZUREML_MANAGEMENT_ENDPOINT: standIn.url }, FIXED_NOW);
    for (const e of GRID) await captureEvent(reference.capture, structuredClone(e), { channel: 'eventgrid' });
    for (const [i, m] of HUB.entries())
      await captureMonitorMessage(reference.capture, structuredClone(m), { partitionId: '0', eventHubName: HUB_NAME, sequenceNumber: i });
    await drainQueue(reference, async (message, dequeueCount) => {
      await enrich(reference.enrich, enrichmentMessageSchema.parse(message), { redelivered: dequeueCount > 1 });
    });
    await maintainClosures(reference.graph);
    const clean = await contents(reference);
    phase('reference');
    figures.duplicated = faulty.rawLog.length - new Set(faulty.rawLog).size;
    console.log(`fault figures: ${JSON.stringify(figures)}`);

    expect(figures.requests).toBeGreaterThan(1000);
    for (const kind of FAULT_KINDS) expect(figures.injected[kind], `${kind} injected`).toBeGreaterThan(0);
    for (const name of Object.keys(proxies)) expect(figures.injected[name], `faults injected into ${name}`).toBeGreaterThan(0);
    expect(FAULT_KINDS.reduce((n, k) => n + (figures.injected[k] ?? 0), 0)).toBeGreaterThan(figures.requests * RATE * 0.5);
    // The outage outlasted the in-process retries, so Event Grid's redelivery had to recover it.
    expect(figures.eventGrid.redeliveries).toBeGreaterThan(0);
    expect(figures.eventHubs.givenUp).toBe(0);
    expect(figures.lost).toBe(0);
    expect(figures.duplicated).toBe(0);
    expect(clean.letters.map((l) => l.split(' ')[0])).toHaveLength(2); // the two refused by design
    expect(faulty.letters).toEqual(clean.letters);
    expect(faulty.rawLog).toEqual(clean.rawLog);
    expect(faulty.requests).toEqual(clean.requests);
    expect(faulty.graph.length).toBeGreaterThan(GRID.length);
    expect(await services.graph.pendingLinks(1)).toEqual([]);
    expect(faulty.graph).toEqual(clean.graph);
    expect(faulty.closures.length).toBeGreaterThan(0);
    expect(faulty.closures).toEqual(clean.closures);
  }, 900_000);
});
