import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAzureMlStandIn, type AzureMlStandIn } from '../../infra/local/azureMlStandIn/index.js';
import { isMlflowPath } from '../../infra/local/azureMlStandIn/mlflow.js';
import { startAzurite, startCosmos } from '../../infra/local/embeddedServices.js';
import { buildServices, type Services } from '../../shared/composition.js';
import { loadSettings } from '../../shared/config.js';
import { enrichmentMessageSchema, type EnrichmentMessage } from '../../shared/ingest/enrichmentMessage.js';
import { normalizeMonitorRecord } from '../../shared/ingest/monitor/categories.js';
import type { EventLog } from '../../shared/store/eventLog.js';
import { createCosmosClient, ensureCosmos } from '../../shared/store/cosmosClient.js';
import { captureEvent, type CaptureDeps } from '../../shared/usecases/captureEvent.js';
import { captureMonitorMessage } from '../../shared/usecases/captureMonitorMessage.js';
import { enrich } from '../../shared/usecases/enrich.js';
import { maintainClosures } from '../../shared/usecases/closures.js';
import { monitorStream, type MonitorMessage } from './monitorStream.js';
import { fixed, heading, int, mean, runSectionAlone, table } from './report.js';
import { RequestBreakdown } from './requestBreakdown.js';
import { recordFigures, round } from './results.js';

/**
 * Section 4: what an event costs once enrichment runs, and what Event Hubs capture costs per
 * record, through the real stores (embedded Cosmos server, Azurite) and real HTTP to the Azure ML
 * REST stand-in. Round trips are the hardware-independent figure; timings depend on the machine.
 *
 *   a. The sample workspace's Event Grid events (infra/local/sample-events.json), captured, then
 *      the enrichment queue drained one message at a time as the queue trigger would (parse,
 *      enrich, delete) until empty; then the same events delivered again and drained again.
 *   b. Generated Azure Monitor messages through captureMonitorMessage, with every Cosmos request
 *      and enqueued enrichment attributed to the record that caused it.
 *   c. MLflow requests per enriched job (runs/get on the workspace's tracking server) in both
 *      rounds of (a), and when every job's MLflow message is delivered once more by the queue.
 *
 * `npm run bench:enrichment` runs this section alone.
 */

/** Section 4b: about 2,800 records, three quarters of the messages endpoint traffic logs. */
export const capturedMessages = (): MonitorMessage[] => monitorStream(300, 20240502, 0.75);

/** The repository root: the nearest folder above this file with a package.json (works from dist/). */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root above test/bench');
    dir = parent;
  }
  return dir;
}

function sampleEvents(): Array<Record<string, unknown>> {
  return JSON.parse(readFileSync(join(repositoryRoot(), 'infra', 'local', 'sample-events.json'), 'utf8')) as Array<Record<string, unknown>>;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** `mean (min-max)`, or `-` when empty. */
function spread(values: readonly number[], digits = 2): string {
  if (values.length === 0) return '-';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return `${fixed(mean(values), digits)} (${lo === hi ? lo : `${lo}-${hi}`})`;
}

/** What one kind of enrichment request cost while draining. */
interface KindCost {
  processed: number;
  /** Resources asked for (ARM ids, ignoring case): fewer than `processed` when one is requested again. */
  distinct: Set<string>;
  rest: number;
  cosmos: number;
  followUps: number;
  /** Graph documents the captured observation touched: created + updated + unchanged. */
  docs: number;
  outcomes: Map<string, number>;
}

/** One delivery of the sample events and the drain that followed. */
interface Round {
  events: number;
  captureCosmos: number;
  captureEnqueued: number;
  captureOutcomes: Map<string, number>;
  kinds: Map<string, KindCost>;
  processed: number;
  drainCosmos: number;
  /** The closure stage, run once after the round (it coalesces the round's nudges). */
  stageCosmos: number;
  restClient: number;
  restServer: number;
  restByStatus: Map<number, number>;
  /** Requests the stand-in answered on its MLflow paths (runs/get, metrics/get-history). */
  mlflow: number;
  queue: { sent: number; receives: number; deletes: number };
  failures: string[];
  ms: number;
  /** Its Cosmos requests by store call and operation, capture and enrichment apart. */
  breakdown: RequestBreakdown;
}

function bump<K>(map: Map<K, number>, key: K, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

async function captureAndDrain(
  services: Services,
  standIn: AzureMlStandIn,
  events: ReadonlyArray<Record<string, unknown>>,
): Promise<Round> {
  const started = performance.now();
  const restClient0 = services.arm.requests;
  const restServer0 = standIn.requests.length;
  const round: Round = {
    events: events.length,
    captureCosmos: 0,
    captureEnqueued: 0,
    captureOutcomes: new Map(),
    kinds: new Map(),
    processed: 0,
    drainCosmos: 0,
    stageCosmos: 0,
    restClient: 0,
    restServer: 0,
    restByStatus: new Map(),
    mlflow: 0,
    queue: { sent: 0, receives: 0, deletes: 0 },
    failures: [],
    ms: 0,
    breakdown: new RequestBreakdown(services.meter),
  };
  const captureDeps = round.breakdown.instrument(services.capture);
  const enrichDeps = round.breakdown.instrument(services.enrich);

  // Byte-for-byte copies, as a redelivery would bring them.
  for (const event of events.map((e) => JSON.parse(JSON.stringify(e)) as Record<string, unknown>)) {
    const before = services.meter.storeRequests;
    const outcome = await captureEvent(captureDeps, event, { channel: 'eventgrid' });
    round.captureCosmos += services.meter.storeRequests - before;
    bump(round.captureOutcomes, outcome.status === 'projected' && outcome.duplicate ? 'projected (duplicate)' : outcome.status);
    if (outcome.status === 'projected') round.captureEnqueued += outcome.enqueued;
  }
  round.queue.sent += round.captureEnqueued;

  // The queue trigger's work, one message at a time so every request is attributed to its message.
  const queue = services.enrichmentQueue.client;
  const drainCosmos0 = services.meter.storeRequests;
  for (;;) {
    const received = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
    round.queue.receives++;
    if (received.receivedMessageItems.length === 0) break;
    for (const message of received.receivedMessageItems) {
      const parsed = enrichmentMessageSchema.safeParse(JSON.parse(Buffer.from(message.messageText, 'base64').toString('utf8')));
      if (!parsed.success) {
        round.failures.push(`not an enrichment request: ${message.messageText.slice(0, 80)}`);
      } else {
        const request: EnrichmentMessage = parsed.data;
        const cost = round.kinds.get(request.kind) ?? {
          processed: 0,
          distinct: new Set<string>(),
          rest: 0,
          cosmos: 0,
          followUps: 0,
          docs: 0,
          outcomes: new Map<string, number>(),
        };
        round.kinds.set(request.kind, cost);
        const rest0 = services.arm.requests;
        const cosmos0 = services.meter.storeRequests;
        round.breakdown.phase = request.kind;
        try {
          const outcome = await enrich(enrichDeps, request);
          const followUps = outcome.status === 'listed' ? outcome.followUps : outcome.status === 'projected' ? outcome.enqueued : 0;
          cost.followUps += followUps;
          if (outcome.status === 'projected') cost.docs += outcome.writes.created + outcome.writes.updated + outcome.writes.unchanged;
          round.queue.sent += followUps;
          bump(cost.outcomes, outcome.status === 'projected' && outcome.duplicate ? 'projected (duplicate)' : outcome.status);
        } catch (error) {
          // The function would retry, then dead-letter; here it is reported and dropped.
          round.failures.push(
            `${request.kind} ${request.armId.split('/workspaces/')[1] ?? request.armId}: ${error instanceof Error ? error.message : String(error)}`,
          );
          bump(cost.outcomes, 'failed');
        }
        cost.processed++;
        cost.distinct.add(request.armId.toLowerCase());
        cost.rest += services.arm.requests - rest0;
        cost.cosmos += services.meter.storeRequests - cosmos0;
        round.processed++;
      }
      await queue.deleteMessage(message.messageId, message.popReceipt);
      round.queue.deletes++;
    }
  }
  round.drainCosmos = services.meter.storeRequests - drainCosmos0;
  const stage0 = services.meter.storeRequests;
  await maintainClosures(services.graph);
  round.stageCosmos = services.meter.storeRequests - stage0;
  round.restClient = services.arm.requests - restClient0;
  round.restServer = standIn.requests.length - restServer0;
  for (const r of standIn.requests.slice(restServer0)) bump(round.restByStatus, r.status);
  round.mlflow = standIn.requests.slice(restServer0).filter((r) => isMlflowPath(r.path)).length;
  round.ms = performance.now() - started;
  return round;
}

function outcomesText(outcomes: Map<string, number>): string {
  return [...outcomes].map(([o, n]) => `${int(n)} ${o}`).join(', ');
}

/** `2 new, 1 dup`: projected with new evidence, or evidence already in the event log. */
function shortOutcomes(outcomes: Map<string, number> | undefined): string {
  const short: Record<string, string> = { projected: 'new', 'projected (duplicate)': 'dup' };
  return [...(outcomes ?? new Map<string, number>())].map(([o, n]) => `${n} ${short[o] ?? o}`).join(', ') || '-';
}

function printEnrichment(first: Round, again: Round): void {
  const rounds: Array<[string, Round]> = [
    ['first delivery', first],
    ['redelivery', again],
  ];
  for (const [label, r] of rounds) {
    console.log(
      `  ${label}: ${r.events} Event Grid events (${outcomesText(r.captureOutcomes)}), ${int(r.processed)} enrichment requests processed ` +
        `(${[...r.kinds].map(([k, c]) => `${c.processed} ${k}`).join(', ')}); REST answers ${[...r.restByStatus]
          .sort((a, b) => a[0] - b[0])
          .map(([s, n]) => `${n}x ${s}`)
          .join(', ')}` +
        (r.failures.length > 0 ? `; ${r.failures.length} FAILED: ${r.failures.slice(0, 3).join(' | ')}` : '; none failed'),
    );
  }
  console.log('');
  const col = (f: (r: Round) => string) => rounds.map(([, r]) => f(r));
  console.log(
    table(
      ['', 'first delivery', 'redelivery'],
      [
        ['Event Grid events', ...col((r) => int(r.events))],
        ['enrichment requests processed', ...col((r) => int(r.processed))],
        ['REST requests (services.arm.requests)', ...col((r) => int(r.restClient))],
        ["REST requests (stand-in's requests.length)", ...col((r) => int(r.restServer))],
        ['Cosmos requests: capture', ...col((r) => int(r.captureCosmos))],
        ['Cosmos requests: enrichment', ...col((r) => int(r.drainCosmos))],
        ['Cosmos requests: total', ...col((r) => int(r.captureCosmos + r.drainCosmos))],
        ['queue messages sent / received+deleted', ...col((r) => `${int(r.queue.sent)} / ${int(r.queue.deletes)}`)],
        ['Cosmos requests/event, capture only', ...col((r) => fixed(r.captureCosmos / r.events, 2))],
        ['Cosmos requests/event, incl. enrichment', ...col((r) => fixed((r.captureCosmos + r.drainCosmos) / r.events, 2))],
        ['Cosmos requests: closure stage (one run)', ...col((r) => int(r.stageCosmos))],
        [
          'Cosmos requests/event, incl. enrichment and closures',
          ...col((r) => fixed((r.captureCosmos + r.drainCosmos + r.stageCosmos) / r.events, 2)),
        ],
        ['REST requests/event', ...col((r) => fixed(r.restClient / r.events, 2))],
        ['enrichment requests/event', ...col((r) => fixed(r.processed / r.events, 2))],
        ['REST requests/enrichment request', ...col((r) => fixed(r.restClient / r.processed, 2))],
        ['Cosmos requests/enrichment request', ...col((r) => fixed(r.drainCosmos / r.processed, 2))],
        ['seconds (MACHINE-DEPENDENT)', ...col((r) => fixed(r.ms / 1000, 1))],
      ],
    ),
  );

  console.log('\n  by kind of enrichment request, first delivery -> redelivery; one message at a time; outcomes: new = new');
  console.log('  evidence in the event log, dup = the same REST answer already logged (projected again all the same)');
  const kinds = [...new Set([...first.kinds.keys(), ...again.kinds.keys()])];
  const per = (r: Round, kind: string, f: (c: KindCost) => number) => {
    const c = r.kinds.get(kind);
    return c && c.processed > 0 ? fixed(f(c) / c.processed, 2) : '-';
  };
  const pair = (kind: string, f: (c: KindCost) => number) => `${per(first, kind, f)} -> ${per(again, kind, f)}`;
  console.log(
    table(
      ['kind', 'requests (distinct resources)', 'REST/request', 'Cosmos/request', 'graph docs/request', 'follow-ups/request', 'outcomes'],
      kinds.map((k) => [
        k,
        [first, again].map((r) => `${r.kinds.get(k)?.processed ?? 0} (${r.kinds.get(k)?.distinct.size ?? 0})`).join(' -> '),
        pair(k, (c) => c.rest),
        pair(k, (c) => c.cosmos),
        pair(k, (c) => c.docs),
        pair(k, (c) => c.followUps),
        [first, again].map((r) => shortOutcomes(r.kinds.get(k)?.outcomes)).join(' -> '),
      ]),
    ),
  );
}

const CAPTURE = (phase: string) => phase === 'capture';
const ENRICHMENT = (phase: string) => phase !== 'capture';

/** What a store call's requests were for, in the report's words. */
function purpose(label: string): string {
  if (label.startsWith('eventLog.append ')) return label.endsWith(' 409') ? 'event log: answer already logged (409)' : 'event log: append';
  if (label.startsWith('graph.write ')) {
    const operation = label.slice('graph.write '.length);
    return operation.startsWith('read') ? `graph writer: point reads (${operation})` : `graph writer: writes (${operation})`;
  }
  if (label.startsWith('graph.readNode ')) return `node reads outside the writer (${label.slice('graph.readNode '.length)})`;
  return label;
}

/**
 * Section 4a's Cosmos requests by what they were for, per Event Grid event and per REST answer,
 * capture and enrichment apart; then what they would be with a writer that reads a call's
 * documents in one request and writes them in one more.
 */
function printBreakdown(first: Round, again: Round): number {
  const rounds: Array<[string, Round]> = [
    ['first delivery', first],
    ['redelivery', again],
  ];
  const purposes = [...new Set(rounds.flatMap(([, r]) => [...r.breakdown.requests.keys()].map(purpose)))].sort();
  const of = (r: Round, phase: (p: string) => boolean, p?: string) => r.breakdown.total(phase, (l) => p === undefined || purpose(l) === p);
  const cells = (f: (r: Round) => [number, number]) =>
    rounds.flatMap(([, r]) => {
      const [capture, enrichment] = f(r);
      return [fixed(capture / r.events, 2), fixed(enrichment / r.events, 2), fixed(enrichment / Math.max(1, r.restClient), 2)];
    });
  console.log('\n  Cosmos requests by what they were for (first delivery | redelivery): per Event Grid event in capture, per');
  console.log('  Event Grid event in enrichment, and per REST answer in enrichment (one message at a time, each store call metered)');
  console.log(
    table(
      ['', ...rounds.flatMap(([label]) => [`${label}: capture/event`, 'enrichment/event', 'enrichment/REST answer'])],
      [
        ...purposes.map((p) => [p, ...cells((r) => [of(r, CAPTURE, p), of(r, ENRICHMENT, p)])]),
        ['not attributed to a store call', ...cells((r) => [r.captureCosmos - of(r, CAPTURE), r.drainCosmos - of(r, ENRICHMENT)])],
        ['all', ...cells((r) => [r.captureCosmos, r.drainCosmos])],
      ],
    ),
  );
  const kinds = [...first.kinds.keys()];
  const writerReads = (l: string) => l.startsWith('graph.write read');
  const writerWrites = (l: string) => l.startsWith('graph.write ') && !writerReads(l);
  const log = (l: string) => l.startsWith('eventLog.');
  console.log('\n  ... by kind of enrichment message, first delivery: requests per message');
  console.log(
    table(
      ['kind', 'messages', 'event log', 'writer reads', 'writer writes', 'other', 'write() calls', 'documents/call'],
      kinds.map((k) => {
        const n = first.kinds.get(k)?.processed ?? 0;
        const kind = (p: string) => p === k;
        const calls = first.breakdown.writes(kind);
        const all = first.kinds.get(k)?.cosmos ?? 0;
        const known = (l: string) => log(l) || l.startsWith('graph.write ');
        return [
          k,
          int(n),
          fixed(first.breakdown.total(kind, log) / n, 2),
          fixed(first.breakdown.total(kind, writerReads) / n, 2),
          fixed(first.breakdown.total(kind, writerWrites) / n, 2),
          fixed((all - first.breakdown.total(kind, known)) / n, 2),
          int(calls.length),
          calls.length === 0 ? '-' : fixed(mean(calls.map((c) => c.docs)), 1),
        ];
      }),
    ),
  );
  const everything = () => true;
  const estimate = (r: Round) => r.breakdown.withOneReadOneWrite(everything) + (r.captureCosmos + r.drainCosmos - of(r, everything));
  const calls = (r: Round) => r.breakdown.writes(everything);
  console.log(
    `\n  graph writer calls: ${rounds
      .map(
        ([label, r]) =>
          `${label} ${int(calls(r).length)} (${fixed(mean(calls(r).map((c) => c.docs)), 1)} documents each, ${int(calls(r).filter((c) => c.changed).length)} changed something)`,
      )
      .join('; ')}`,
  );
  console.log(
    `  ESTIMATE with a writer of one request for a call's reads and one for its writes (bulk): ${rounds
      .map(([label, r]) => `${label} ${fixed(estimate(r) / r.events, 2)} Cosmos requests/event incl. enrichment`)
      .join('; ')}`,
  );
  return estimate(first) / first.events;
}

/** Per-record cost of captureMonitorMessage, by record label and normalized status. */
interface RecordCost {
  label: string;
  status: string;
  cosmos: number;
  enqueued: number;
}

async function captureMessages(
  services: Services,
  messages: readonly MonitorMessage[],
): Promise<{
  records: RecordCost[];
  reports: { projected: number; ignored: number; deadLettered: number; failed: number };
  ms: number;
  metered: number;
}> {
  // Requests between one record's event-log append and the next record's belong to the first:
  // captureMonitorMessage captures records one after another, each starting with that append.
  let current: RecordCost | undefined;
  let mark = services.meter.storeRequests;
  const close = () => {
    if (current) current.cosmos += services.meter.storeRequests - mark;
    mark = services.meter.storeRequests;
  };
  let pending: RecordCost[] = [];
  const eventLog = Object.create(services.eventLog) as EventLog;
  eventLog.append = (entry) => {
    const index = Number(entry.delivery?.recordIndex);
    const next = pending[index];
    if (next !== current) {
      close();
      current = next;
    }
    return services.eventLog.append(entry);
  };
  const deps: CaptureDeps = {
    ...services.capture,
    eventLog,
    enrichments: {
      enqueue: async (requests) => {
        if (current) current.enqueued += requests.length;
        await services.enrichmentQueue.enqueue(requests);
      },
    },
  };

  const records: RecordCost[] = [];
  const reports = { projected: 0, ignored: 0, deadLettered: 0, failed: 0 };
  const started = performance.now();
  const metered0 = services.meter.storeRequests;
  const enqueuedAt = Date.UTC(2024, 4, 1);
  for (const [i, message] of messages.entries()) {
    pending = message.body.records.map((record, j) => ({
      label: message.labels[j] ?? '?',
      status: normalizeMonitorRecord(record).status,
      cosmos: 0,
      enqueued: 0,
    }));
    records.push(...pending);
    // Event Hubs bodies arrive as bytes.
    const body = Buffer.from(JSON.stringify(message.body), 'utf8');
    const delivery = {
      partitionId: String(i % 4),
      sequenceNumber: Math.floor(i / 4),
      offset: String(Math.floor(i / 4) * 4096),
      enqueuedTime: new Date(enqueuedAt + i * 1000).toISOString(),
    };
    const report = await captureMonitorMessage(deps, body, delivery);
    close();
    current = undefined;
    reports.projected += report.projected;
    reports.ignored += report.ignored;
    reports.deadLettered += report.deadLettered;
    reports.failed += report.failed;
  }
  return { records, reports, ms: performance.now() - started, metered: services.meter.storeRequests - metered0 };
}

function printMonitorCapture(
  messages: readonly MonitorMessage[],
  run: Awaited<ReturnType<typeof captureMessages>>,
): { perRecord: number; perTraffic: number } {
  const { records, reports } = run;
  const bySource = new Map<string, number>();
  for (const m of messages) bump(bySource, m.source);
  console.log(
    `  ${int(messages.length)} messages (${[...bySource].map(([s, n]) => `${s} ${n}`).join(', ')}), ${int(records.length)} records, ` +
      `${fixed(records.length / messages.length, 1)} records/message, as Buffer bodies`,
  );
  console.log(
    `  captureMonitorMessage reports: ${int(reports.projected)} projected, ${int(reports.ignored)} ignored, ${int(reports.deadLettered)} dead-lettered, ${int(reports.failed)} failed\n`,
  );

  const groups = new Map<string, RecordCost[]>();
  for (const r of records) {
    const key = `${r.label}|${r.status}`;
    const group = groups.get(key) ?? [];
    group.push(r);
    groups.set(key, group);
  }
  const rows = [...groups].sort((a, b) =>
    a[0].endsWith('projected') === b[0].endsWith('projected') ? b[1].length - a[1].length : a[0].endsWith('projected') ? -1 : 1,
  );
  const line = (label: string, status: string, rs: readonly RecordCost[]) => [
    label,
    status,
    int(rs.length),
    spread(rs.map((r) => r.cosmos)),
    fixed(sum(rs.map((r) => r.enqueued)) / Math.max(1, rs.length), 2),
  ];
  const projected = records.filter((r) => r.status === 'projected');
  const ignored = records.filter((r) => r.status !== 'projected');
  const traffic = records.filter((r) => r.label === 'AmlOnlineEndpointTrafficLog');
  console.log('  per record, by category and outcome: Cosmos requests mean (min-max); enrichment requests enqueued');
  console.log(
    table(
      ['category', 'outcome', 'records', 'Cosmos requests/record', 'enqueued/record'],
      [
        ...rows.map(([key, rs]) => {
          const [label, status] = key.split('|') as [string, string];
          return line(label, status, rs);
        }),
        line('all projected records', '', projected),
        line('all ignored records', '', ignored),
        line('all records', '', records),
      ],
    ),
  );
  const total = sum(records.map((r) => r.cosmos));
  console.log('  (Administrative ignored: the Started half of each write; Write: the documented non-ML support-ticket write;');
  console.log("  WorkflowRuntime, AuditEvent, metrics: other services' documented records)");
  console.log(
    `\n  ${int(total)} Cosmos requests for ${int(messages.length)} messages (${total === run.metered ? 'every metered request attributed to a record' : `METERED ${int(run.metered)}: attribution incomplete`}): ` +
      `${fixed(total / messages.length, 1)} per message; ` +
      `${int(sum(records.map((r) => r.enqueued)))} enrichment requests enqueued (one queue message each)`,
  );
  console.log(
    `  ${fixed(run.ms / 1000, 1)} s, ${int(records.length / (run.ms / 1000))} records/s through the embedded store (MACHINE-DEPENDENT, one message at a time)`,
  );
  return { perRecord: total / records.length, perTraffic: sum(traffic.map((r) => r.cosmos)) / Math.max(1, traffic.length) };
}

export async function runEnrichmentBench(messages: readonly MonitorMessage[]): Promise<void> {
  console.log(heading('4. Cosmos and REST requests per event: enrichment and Event Hubs capture'));
  console.log('  (embedded Cosmos server + Azurite + the Azure ML REST stand-in, all on loopback)');
  const [cosmos, azurite, standIn] = await Promise.all([
    startCosmos(0),
    startAzurite({ blob: 0, queue: 0, table: 0 }),
    startAzureMlStandIn({ port: 0 }),
  ]);
  try {
    const settings = loadSettings({
      COSMOS_ENDPOINT: cosmos.url,
      COSMOS_KEY: cosmos.key,
      COSMOS_DATABASE: 'bench-enrichment',
      STORAGE_CONNECTION_STRING: azurite.connectionString,
      DEADLETTER_CONTAINER: 'deadletters',
      ENRICHMENT_QUEUE: 'enrichment',
      AZUREML_MANAGEMENT_ENDPOINT: standIn.url,
    });
    const admin = await createCosmosClient(settings);
    await ensureCosmos(admin, settings.COSMOS_DATABASE);
    admin.dispose();
    const services = await buildServices(settings);
    await services.ensureStorage();

    const events = sampleEvents();
    console.log(`\n  a. Event Grid events of the sample workspace (infra/local/sample-events.json), then the enrichment queue drained`);
    const first = await captureAndDrain(services, standIn, events);
    const again = await captureAndDrain(services, standIn, events);
    printEnrichment(first, again);
    const withBulkWriter = printBreakdown(first, again);

    console.log(`\n  b. Event Hubs capture: captureMonitorMessage over generated Azure Monitor messages (traffic-log heavy)`);
    const run = await captureMessages(services, messages);
    const { perRecord, perTraffic } = printMonitorCapture(messages, run);

    console.log(`\n  c. MLflow requests per enriched job (target: 1 on first fetch, 0 on redelivery)`);
    await printMlflowCost(services, standIn, first, again);

    const perEvent = (r: Round) => fixed((r.captureCosmos + r.drainCosmos) / r.events, 1);
    console.log(
      `\n  summary: an Event Grid event costs ${perEvent(first)} Cosmos and ${fixed(first.restClient / first.events, 1)} REST requests with its enrichment ` +
        `(redelivered: ${perEvent(again)} and ${fixed(again.restClient / again.events, 1)}); an Event Hubs record ${fixed(perRecord, 2)} Cosmos requests (traffic log ${fixed(perTraffic, 2)})`,
    );
    const cosmosPerEvent = (r: Round) => round((r.captureCosmos + r.drainCosmos) / r.events, 1);
    recordFigures({
      capture: {
        requestsPerEventWithEnrichment: cosmosPerEvent(first),
        // Estimated: the same run with a writer of one request for a call's reads and one for its writes.
        requestsPerEventWithEnrichmentOneReadOneWritePerWriterCall: round(withBulkWriter, 1),
        requestsPerEventWithEnrichmentRedelivery: cosmosPerEvent(again),
        requestsPerEventWithEnrichmentAndClosures: round((first.captureCosmos + first.drainCosmos + first.stageCosmos) / first.events, 1),
        restRequestsPerEventWithEnrichment: round(first.restClient / first.events, 1),
        requestsPerEventHubsRecord: round(perRecord),
      },
    });
  } finally {
    await Promise.all([cosmos.stop(), azurite.stop(), standIn.stop()]);
  }
}

/**
 * MLflow requests per job enriched: the rounds of (a), then every job's `mlflowRun` message
 * delivered again by the queue (the message a crash after projecting would leave behind).
 */
async function printMlflowCost(services: Services, standIn: AzureMlStandIn, first: Round, again: Round): Promise<void> {
  const jobs = [...(first.kinds.get('job')?.distinct ?? [])];
  const mark = standIn.requests.length;
  const outcomes = new Map<string, number>();
  for (const armId of jobs) {
    const outcome = await enrich(services.enrich, { kind: 'mlflowRun', armId }, { redelivered: true });
    bump(outcomes, outcome.status);
  }
  const redelivered = standIn.requests.slice(mark).filter((r) => isMlflowPath(r.path)).length;
  const perJob = (n: number, of: number) => (of > 0 ? fixed(n / of, 2) : '-');
  const jobsIn = (r: Round) => r.kinds.get('job')?.distinct.size ?? 0;
  console.log(
    table(
      ['', 'jobs enriched', 'mlflowRun messages (a run is fetched in its job message)', 'MLflow requests', 'MLflow requests/job'],
      [
        [
          '(a) first delivery',
          int(jobsIn(first)),
          int(first.kinds.get('mlflowRun')?.processed ?? 0),
          int(first.mlflow),
          perJob(first.mlflow, jobsIn(first)),
        ],
        [
          '(a) events delivered again',
          int(jobsIn(again)),
          int(again.kinds.get('mlflowRun')?.processed ?? 0),
          int(again.mlflow),
          perJob(again.mlflow, jobsIn(again)),
        ],
        [
          'mlflowRun message redelivered',
          int(jobs.length),
          `0 (${outcomesText(outcomes)})`,
          int(redelivered),
          perJob(redelivered, jobs.length),
        ],
      ],
    ),
  );
}

runSectionAlone(import.meta.url, '4', () => runEnrichmentBench(capturedMessages()));
