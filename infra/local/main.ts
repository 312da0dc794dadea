import { loadSettings } from '../../shared/config.js';
import { buildServices } from '../../shared/composition.js';
import { createCosmosClient, ensureCosmos } from '../../shared/store/cosmosClient.js';
import { startAzurite, startCosmos, type RunningService } from './embeddedServices.js';
import { bindingText, resolveSetting } from './bindingOptions.js';
import { startHost } from './host.js';
import { startAzureMlStandIn } from './azureMlStandIn/index.js';
import { startEventHubsStandIn } from './eventHubsStandIn/index.js';

/** Compliance timers, daily in the small hours UTC, a quarter of an hour apart, integrity hourly (Bicep sets the same). */
export const DEFAULT_COMPLIANCE_SCHEDULES = {
  COMPLIANCE_LINEAGE_SCHEDULE: '0 0 2 * * *',
  COMPLIANCE_DRIFT_SCHEDULE: '0 15 2 * * *',
  COMPLIANCE_RETENTION_SCHEDULE: '0 30 2 * * *',
  COMPLIANCE_PII_SCHEDULE: '0 45 2 * * *',
  // Hourly: incremental and cheap, so a tampered record is reported within the hour.
  COMPLIANCE_INTEGRITY_SCHEDULE: '0 10 * * * *',
  // Hourly: the freshness figures age by the hour.
  COMPLIANCE_SERVING_SCHEDULE: '0 20 * * * *',
  COMPLIANCE_SCHEMA_DRIFT_SCHEDULE: '0 50 2 * * *',
};
/** The reconcile timer: endpoints and deployments read again every 30 minutes. */
export const DEFAULT_RECONCILE_SCHEDULE = '0 */30 * * * *';
/** The evidence log's sequencer: every 5 minutes, the window in which a logged event is not yet signed for. */
export const DEFAULT_SEQUENCE_SCHEDULE = '0 */5 * * * *';

/**
 * `npm start`: runs the function app locally on embedded defaults. Cosmos DB and Azure Storage
 * are started in-process/child-process unless settings point at real endpoints
 * (COSMOS_ENDPOINT; STORAGE_CONNECTION_STRING or STORAGE_BLOB_ENDPOINT). Ctrl-C stops all of it.
 *
 * Ports: the embedded stores take free ports unless LOCAL_*_PORT names one, so instances (and
 * test runs) side by side never collide. The app takes PORT, else 7071 when free; the Event Hubs
 * stand-in 5672 and the REST stand-in 7072 when free (where `npm run sample` finds them), else any
 * free port. `--services-only` keeps the well-known ports local.settings.json names for `func start`.
 */
const SERVICES_ONLY = process.argv.includes('--services-only');
/** Where `npm run sample` looks for the Azure ML stand-in (AZUREML_STANDIN_URL overrides). */
const DEFAULT_AZUREML_STANDIN_PORT = 7072;
const WELL_KNOWN = { cosmos: 8081, blob: 10000, queue: 10001, table: 10002, eventHubs: 5672 };

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number (0 picks a free one), got "${raw}"`);
  return n;
}

function milliseconds(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of milliseconds, got "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const started: Array<{ name: string; service: RunningService; detail?: string }> = [];
  const where = ({ name, service, detail }: (typeof started)[number]) => `  ${name}: ${service.url}${detail ? ` (${detail})` : ''}`;
  const stopAll = async () => {
    for (const { service } of started.reverse()) await service.stop().catch(() => undefined);
  };
  try {
    if (!process.env.COSMOS_ENDPOINT) {
      const cosmos = await startCosmos(port('LOCAL_COSMOS_PORT', SERVICES_ONLY ? WELL_KNOWN.cosmos : 0));
      started.push({ name: 'Cosmos DB (embedded @vercel/cosmosdb-server, in memory)', service: cosmos });
      process.env.COSMOS_ENDPOINT = cosmos.url;
      process.env.COSMOS_KEY = cosmos.key;
    }
    if (!process.env.STORAGE_CONNECTION_STRING && !process.env.STORAGE_BLOB_ENDPOINT) {
      const azurite = await startAzurite({
        blob: port('LOCAL_AZURITE_BLOB_PORT', SERVICES_ONLY ? WELL_KNOWN.blob : 0),
        queue: port('LOCAL_AZURITE_QUEUE_PORT', SERVICES_ONLY ? WELL_KNOWN.queue : 0),
        table: port('LOCAL_AZURITE_TABLE_PORT', SERVICES_ONLY ? WELL_KNOWN.table : 0),
      });
      started.push({
        name: 'Azure Storage (Azurite, in memory)',
        service: azurite,
        detail: `queue :${azurite.queuePort}, table :${azurite.tablePort}`,
      });
      process.env.STORAGE_CONNECTION_STRING = azurite.connectionString;
    }
    if (!process.env.AZUREML_MANAGEMENT_ENDPOINT) {
      // A stand-in for the Azure ML REST API serving a sample workspace (ws-credit): enrichment
      // talks to it exactly as it would to https://management.azure.com.
      // 7072 is only a default, as 7071 is for the app: `npm run sample` finds the stand-in's control
      // routes there to play the rollout. Taken: any free port (LOCAL_AZUREML_PORT set: exact).
      const standIn = await startAzureMlStandIn({
        port: port('LOCAL_AZUREML_PORT', DEFAULT_AZUREML_STANDIN_PORT),
        anyPortIfTaken: (process.env.LOCAL_AZUREML_PORT ?? '') === '',
      });
      started.push({ name: 'Azure ML REST API (stand-in, sample workspace ws-credit)', service: standIn });
      process.env.AZUREML_MANAGEMENT_ENDPOINT = standIn.url;
    }
    if (!process.env.EVENTHUB_CONNECTION && !process.env.EVENTHUB_CONNECTION__fullyQualifiedNamespace) {
      // An AMQP stand-in the real Event Hubs client talks to, holding the hub captureEventHub reads.
      const hubs = await startEventHubsStandIn({
        // 5672 (the emulator's port) by default, where `npm run sample` sends; taken: any free port.
        port: port('LOCAL_EVENTHUBS_PORT', WELL_KNOWN.eventHubs),
        anyPortIfTaken: !SERVICES_ONLY && (process.env.LOCAL_EVENTHUBS_PORT ?? '') === '',
        hubs: [{ name: process.env.EVENTHUB_NAME || 'insights-logs-amlworkspace', consumerGroups: ['rewind'] }],
      });
      started.push({ name: 'Event Hubs (stand-in, AMQP, in memory)', service: hubs });
      process.env.EVENTHUB_CONNECTION = hubs.connectionString();
    }
    process.env.AzureWebJobsStorage ??= process.env.STORAGE_CONNECTION_STRING;
    // Binding settings the registrations name with %…%; in Azure they are app settings.
    process.env.ENRICHMENT_QUEUE ??= 'enrichment';
    process.env.CLOSURE_QUEUE ??= 'closures';
    process.env.OPERATIONS_QUEUE ??= 'operations';
    process.env.FANOUT_QUEUE ??= 'fanout';
    process.env.EVENTHUB_NAME ??= 'insights-logs-amlworkspace';
    process.env.EVENTHUB_CONSUMER_GROUP ??= '$Default';
    for (const [name, schedule] of Object.entries(DEFAULT_COMPLIANCE_SCHEDULES)) process.env[name] ??= schedule;
    // OpenLineage clients send the function key as a Bearer token, which the route checks itself.
    if (process.env.LOCAL_FUNCTION_KEY) process.env.OPENLINEAGE_API_KEY ||= process.env.LOCAL_FUNCTION_KEY;
    process.env.TLOG_SEQUENCE_SCHEDULE ??= DEFAULT_SEQUENCE_SCHEDULE;
    process.env.RECONCILE_SCHEDULE ??= DEFAULT_RECONCILE_SCHEDULE;

    const settings = loadSettings();
    if (settings.COSMOS_KEY) {
      // With a key (embedded server, emulator, a dev account) create what the app expects to find;
      // with a managed identity the infrastructure templates have done it.
      const client = await createCosmosClient(settings);
      await ensureCosmos(client, settings.COSMOS_DATABASE);
      client.dispose();
    }
    await (await buildServices(settings)).ensureStorage();

    if (SERVICES_ONLY) {
      // For `func start` users: the stores on their default ports, matching local.settings.json.
      console.log(
        [
          '',
          'Local services running (use with func start and local.settings.json):',
          ...started.map(where),
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
      const stop = async () => {
        await stopAll();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop());
      process.on('SIGTERM', () => void stop());
      return;
    }

    const entry = process.env.LOCAL_HOST_ENTRY || undefined;
    // 7071 is only a default: when another instance holds it, the host takes a free port (PORT set: exact).
    const host = await startHost({
      port: port('PORT', 7071),
      entry,
      anyPortIfTaken: (process.env.PORT ?? '') === '',
      queueMessageTimeoutMs: milliseconds('LOCAL_QUEUE_MESSAGE_TIMEOUT_MS'),
      shutdownGraceMs: milliseconds('LOCAL_SHUTDOWN_GRACE_MS'),
    });
    // As Core Tools does (and Azure, with the app's host name): the origin links in reports are built from.
    process.env.WEBSITE_HOSTNAME ??= new URL(host.url).host;
    const lines = [
      '',
      `Lineage function app listening on ${host.url}`,
      ...host.functions.map((f) => {
        const t = f.trigger;
        const type = t.type.toLowerCase();
        if (type === 'httptrigger')
          return `  ${f.metadata.name}: [${((t.methods as string[]) ?? ['GET', 'POST']).join(',')}] ${host.url}/api/${bindingText(t.route, f.metadata.name)}`;
        if (type === 'eventgridtrigger')
          return `  ${f.metadata.name}: eventGridTrigger  POST ${host.url}/runtime/webhooks/eventgrid?functionName=${f.metadata.name}`;
        if (type === 'timertrigger')
          return `  ${f.metadata.name}: timerTrigger ${String(resolveSetting(t.schedule))} (UTC)  POST ${host.url}/admin/functions/${f.metadata.name} runs it now`;
        return `  ${f.metadata.name}: ${t.type}  POST ${host.url}/admin/functions/${f.metadata.name}`;
      }),
      ...started.map(where),
      `  app module: ${entry ?? 'dist/functions/index.js (tsc build)'}`,
      `Lineage explorer: ${host.url}/api/explorer`,
      'Press Ctrl-C to stop.',
      '',
    ];
    console.log(lines.join('\n'));

    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`${signal}: stopping`);
      await host.stop();
      await stopAll();
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
  } catch (error) {
    console.error(`local host failed to start: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll();
    process.exit(1);
  }
}

void main();
