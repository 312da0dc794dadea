import type { Container } from '@azure/cosmos';
import { InvocationContext } from '@azure/functions';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureEventGrid } from '../../functions/captureEventGrid.js';
import { captureEventHub } from '../../functions/captureEventHub.js';
import type { TriggerFunction } from '../../shared/api/app.js';
import type { Services } from '../../shared/composition.js';
import { splitMonitorMessage } from '../../shared/ingest/monitor/message.js';
import { letterName } from '../../shared/store/deadLetters.js';
import { MAX_RECORDS_PER_MESSAGE } from '../../shared/usecases/captureMonitorMessage.js';
import { prepareEvent } from '../../shared/usecases/captureEvent.js';
import { canonicalJson } from '../../shared/util/canonicalJson.js';
import { firstEvent, fixture } from '../helpers/fixtures.js';
import { applyRecipe, PLANTED, recipe, type Recipe } from '../helpers/hostileMutations.js';
import { activityWrite, runStatusRecord, trafficRecord } from '../helpers/monitorRecords.js';
import { cosmosContainers, servicesForHandlers } from '../helpers/stores.js';

/**
 * Fuzzing both capture channels through their function handlers, against the real stores:
 * documented payloads with hostile mutations (wrong types, nesting to 10,000 levels, megabyte
 * strings, 100,000-element arrays, special keys, bad escapes, planted personal data and secrets).
 * Every input must end in the raw log (and so the graph, or an ignored category) or in the dead
 * letters with a reason; no handler may throw while the stores are up (a throw is a 5xx for Event
 * Grid, a failed batch for Event Hubs); nothing planted may be stored in clear anywhere.
 * FUZZ_RUNS sets the cases per channel: 60 by default, so `npm test` stays within tens of seconds
 * (each case goes through the real stores); `.ci/run` sets 1000, the full run (alone:
 * `FUZZ_RUNS=1000 npx vitest run --project integration test/integration/fuzz.property.test.ts`).
 * FUZZ_SEED replays a failure.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
/** A case takes tens of milliseconds on a quiet machine and up to about a second on a crowded one. */
const CHANNEL_TIMEOUT_MS = Math.max(600_000, RUNS * 2_000);
/** The leak scan reads everything the cases stored, so it grows with them too. */
const SCAN_TIMEOUT_MS = Math.max(120_000, RUNS * 1_000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const EVENT_GRID_BASES = [
  ...['ModelRegistered', 'ModelDeployed', 'RunCompleted', 'RunStatusChanged', 'DatasetDriftDetected'].flatMap((type) => [
    firstEvent(`azureml-eventgrid/eventgrid-${type}.json`),
    firstEvent(`azureml-eventgrid/cloudevents-${type}.json`),
  ]),
  firstEvent('azureml-eventgrid/eventgrid-Delivered-EventGridSchema-BlobCreated.json'),
  firstEvent('azureml-eventgrid/eventgrid-ResourceWriteSuccess.json'),
];

const envelope = (file: string) => {
  const value = fixture<unknown>(`azure-monitor/${file}`);
  return structuredClone(Array.isArray(value) ? (value[0] as unknown) : value);
};
const EVENT_HUB_BASES: unknown[] = [
  envelope('activitylog-eventhubs-Write-supporttickets.json'),
  envelope('resourcelog-eventhubs-AuditEvent-KeyVault.json'),
  envelope('resourcelog-eventhubs-envelope-WorkflowRuntime.json'),
  envelope('metrics-eventhubs-envelope-WebSite.json'),
  {
    records: [
      runStatusRecord('fuzz-job', 'Running', '2024-05-01T08:00:00.0000000Z'),
      runStatusRecord('fuzz-job', 'Completed', '2024-05-01T09:00:00.0000000Z', 'fuzz-pipeline'),
    ],
  },
  { records: [trafficRecord('fuzz-req', 'credit-scoring', 'blue', '2024-05-02T10:00:00Z')] },
  {
    records: [
      activityWrite(
        '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws-prod/models/m/versions/1',
        '2024-05-02T09:00:00Z',
        'Microsoft.MachineLearningServices/workspaces/models/versions/write',
      ),
    ],
  },
];

/** The handlers as the host calls them (the declarations are values; functions/index.ts registers them). */
const handlerOf = (fn: TriggerFunction) => fn.options.handler as (input: unknown, context: InvocationContext) => Promise<unknown>;
const onEventGrid = handlerOf(captureEventGrid);
const onEventHub = handlerOf(captureEventHub);

const quiet = () => new InvocationContext({ functionName: 'fuzz', invocationId: 'fuzz', logHandler: () => undefined });

let services: Services;
const saved = { ...process.env };
const figures = { eventGrid: { cases: 0, thrown: 0, lost: 0 }, eventHubs: { cases: 0, records: 0, thrown: 0, lost: 0 } };
const startedAt = Date.now();

beforeAll(async () => {
  // The handlers build their services from app settings, as in Azure.
  services = await servicesForHandlers();
});

afterAll(() => {
  process.env = { ...saved };
  console.log(`fuzz figures (${((Date.now() - startedAt) / 1000).toFixed(1)} s): ${JSON.stringify(figures)}`);
});

/** Logged raw, or dead-lettered with a reason: nothing else counts as landed. */
async function landed(received: unknown, channel: 'eventgrid' | 'eventhubs'): Promise<boolean> {
  const { hash } = prepareEvent(received, services.capture);
  if (await services.eventLog.get(hash.replace(/^sha256:/, ''))) return true;
  const letter = await services.deadLetters.read(letterName('pending', channel, hash));
  return letter !== undefined && letter.reason.trim().length > 0;
}

/**
 * Every document of a container, whatever its kind (raw events, graph, closures, requests, log
 * tiles). Ids by query, documents by point read: the embedded server copies an array once per
 * element when it returns query results, so a query over the fuzz's 100,000-element arrays takes
 * hours there (real Cosmos DB does not); point reads return the stored bytes.
 */
async function everyDocument(container: Container): Promise<unknown[]> {
  const { resources: keys } = await container.items.query<{ id: string; pk: string }>('SELECT c.id, c.pk FROM c').fetchAll();
  const docs: unknown[] = [];
  for (const { id, pk } of keys) docs.push((await container.item(id, pk).read()).resource);
  return docs;
}

const describeRecipe = (r: Recipe) => JSON.stringify(r);

describe('fuzzing the capture channels with hostile inputs', () => {
  it(
    `Event Grid: ${RUNS} mutated events, none thrown, none lost`,
    async () => {
      await fc.assert(
        fc.asyncProperty(recipe(EVENT_GRID_BASES.length), async (r) => {
          figures.eventGrid.cases++;
          const event = applyRecipe(EVENT_GRID_BASES, r);
          try {
            await onEventGrid(event, quiet());
          } catch (error) {
            figures.eventGrid.thrown++;
            throw new Error(`captureEventGrid threw (Event Grid would get a 5xx) for ${describeRecipe(r)}: ${String(error)}`, {
              cause: error,
            });
          }
          if (!(await landed(event, 'eventgrid'))) {
            figures.eventGrid.lost++;
            throw new Error(`neither logged nor dead-lettered: ${describeRecipe(r)}`);
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    },
    CHANNEL_TIMEOUT_MS,
  );

  it(
    `Event Hubs: ${RUNS} mutated messages (objects and text bodies), none thrown, no record lost`,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          recipe(EVENT_HUB_BASES.length),
          fc.constantFrom('object', 'object', 'object', 'text', 'broken text'),
          async (r, form) => {
            figures.eventHubs.cases++;
            const built = applyRecipe(EVENT_HUB_BASES, r);
            // The trigger hands over JSON bodies parsed; a body that is not JSON arrives as text.
            const message = form === 'object' ? built : form === 'text' ? canonicalJson(built) : `${canonicalJson(built).slice(0, -1)}\\x`;
            const context = quiet();
            context.triggerMetadata = {
              partitionContext: { partitionId: '0', eventHubName: 'fuzz' },
              sequenceNumberArray: [figures.eventHubs.cases],
            };
            try {
              await onEventHub([message], context);
            } catch (error) {
              figures.eventHubs.thrown++;
              throw new Error(
                `captureEventHub threw (the batch would be retried, then lost) for ${describeRecipe(r)} as ${form}: ${String(error)}`,
                { cause: error },
              );
            }
            const split = splitMonitorMessage(message);
            // Past MAX_RECORDS_PER_MESSAGE the message as a whole is the dead letter, as it is when not an envelope.
            const units = split.ok && split.records.length <= MAX_RECORDS_PER_MESSAGE ? split.records : [message];
            figures.eventHubs.records += units.length;
            for (const unit of units) {
              if (!(await landed(unit, 'eventhubs'))) {
                figures.eventHubs.lost++;
                throw new Error(`a record was neither logged nor dead-lettered: ${describeRecipe(r)} as ${form}`);
              }
            }
          },
        ),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    },
    CHANNEL_TIMEOUT_MS,
  );

  it(
    'nothing planted (e-mails, IPs, connection-string secrets) is stored in clear anywhere',
    async () => {
      const stored: string[] = [];
      for (const container of Object.values(await cosmosContainers(services)))
        for (const doc of await everyDocument(container)) stored.push(canonicalJson(doc));
      for await (const { letter } of services.deadLetters.pending()) stored.push(canonicalJson(letter));
      const text = stored.join('\n');
      expect(stored.length).toBeGreaterThan(RUNS / 2);
      const leaks = Object.values(PLANTED).filter((marker) => text.includes(marker));
      const where = leaks.map((m) => {
        const i = text.indexOf(m);
        return text.slice(Math.max(0, i - 200), i + 60);
      });
      expect(where).toEqual([]);
    },
    SCAN_TIMEOUT_MS,
  );
});
