import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import type { TokenCredential } from '@azure/identity';
import { loadSettings, type Settings } from './config.js';
import { HoldStore } from './compliance/holds.js';
import type { ComplianceRunDeps } from './compliance/complianceRun.js';
import { ArmClient } from './enrichment/armClient.js';
import { MlflowClient } from './enrichment/mlflowClient.js';
import { ChangeStream } from './store/changeStream.js';
import { ComplianceBlobs } from './store/complianceBlobs.js';
import { DEFAULT_APPROVAL_RULES, parseApprovalRules } from './ingest/approvals.js';
import { registryDirectory } from './ingest/followUps.js';
import { EventHubPublisher } from './publish/eventHubPublisher.js';
import { CONTAINERS, container, createCosmosClient } from './store/cosmosClient.js';
import { DeadLetterStore } from './store/deadLetters.js';
import { EnvelopeCipher } from './privacy/envelope.js';
import { KeyVaultWrapper, LocalKeyFileWrapper } from './store/identityKeys.js';
import { IdentityVault } from './store/identityVault.js';
import { ClosureQueue } from './store/closureQueue.js';
import { EnrichmentQueue } from './store/enrichmentQueue.js';
import { EventLog } from './store/eventLog.js';
import { FanOutQueue } from './store/fanOutQueue.js';
import { OperationQueue, OperationStore } from './store/operationStore.js';
import { GraphStore } from './store/graphStore.js';
import { StoreMeter } from './store/storeMeter.js';
import { PredictionRequestStore } from './store/predictionRequestStore.js';
import { RetainedRecords } from './store/retainedRecords.js';
import type { CaptureDeps } from './usecases/captureEvent.js';
import type { EnrichDeps } from './usecases/enrich.js';
import type { OperationDeps } from './operations/operations.js';
import { appOrigin } from './util/explorerLinks.js';
import { isLoopbackHttp } from './util/loopback.js';
import { BoundedMap } from './util/boundedMap.js';
import { buildTlog, type TlogServices } from './tlogServices.js';

/**
 * The composition root: settings validated once, SDK clients built once per process and shared
 * by every invocation. Handlers ask for `getServices()` and never construct clients themselves.
 */
export interface Services {
  settings: Settings;
  meter: StoreMeter;
  graph: GraphStore;
  eventLog: EventLog;
  deadLetters: DeadLetterStore;
  predictionRequests: PredictionRequestStore;
  enrichmentQueue: EnrichmentQueue;
  closureQueue: ClosureQueue;
  /** Parts of events' graph work queued by capture (FANOUT_QUEUE). */
  fanOutQueue: FanOutQueue;
  /** Sealed identities and the reveal log. */
  identities: IdentityVault;
  arm: ArmClient;
  mlflow: MlflowClient;
  capture: CaptureDeps;
  enrich: EnrichDeps;
  compliance: ComplianceRunDeps;
  /** The evidence log: its store, checkpoint signer and sequencer. */
  tlog: TlogServices;
  /** Long operations (compliance runs, replays) and deferred chat answers, worked off the request. */
  operations: OperationDeps;
  /** One cheap round trip that proves the graph store answers. */
  ping(): Promise<void>;
  /** Creates the blob containers and queue (local host, tests, setup; Cosmos containers: ensureCosmos). */
  ensureStorage(): Promise<void>;
}

let credential: Promise<TokenCredential> | undefined;
/** One managed-identity (or developer) credential per process, loaded only when needed. */
function azureCredential(): Promise<TokenCredential> {
  credential ??= import('@azure/identity').then(({ DefaultAzureCredential }) => new DefaultAzureCredential());
  return credential;
}

/** Enrichment answers remembered as captured, per process (about 200 bytes each). */
const CAPTURED_ANSWERS_KEPT = 10_000;

export async function buildServices(settings: Settings, meter = new StoreMeter()): Promise<Services> {
  const cosmos = await createCosmosClient(settings);
  const containers = {
    graph: container(cosmos, settings.COSMOS_DATABASE, CONTAINERS.graph),
    events: container(cosmos, settings.COSMOS_DATABASE, CONTAINERS.events),
    requests: container(cosmos, settings.COSMOS_DATABASE, CONTAINERS.requests),
  };
  const graph = new GraphStore(containers.graph, meter);
  const eventLog = new EventLog(containers.events, meter);
  const predictionRequests = new PredictionRequestStore(containers.requests, meter);
  const { blobs, queues } = await createStorageClients(settings);
  const deadLetters = new DeadLetterStore(blobs.getContainerClient(settings.DEADLETTER_CONTAINER));
  const enrichmentQueue = new EnrichmentQueue(queues.getQueueClient(settings.ENRICHMENT_QUEUE));
  const closureQueue = new ClosureQueue(queues.getQueueClient(settings.CLOSURE_QUEUE));
  const fanOutQueue = new FanOutQueue(queues.getQueueClient(settings.FANOUT_QUEUE));
  const keyId = settings.IDENTITY_KEYVAULT_KEY_ID;
  const identities = new IdentityVault(
    blobs.getContainerClient(settings.IDENTITY_CONTAINER),
    new EnvelopeCipher(keyId ? new KeyVaultWrapper(keyId, azureCredential) : new LocalKeyFileWrapper(settings.IDENTITY_LOCAL_KEY_FILE)),
  );
  const arm = new ArmClient({
    endpoint: settings.AZUREML_MANAGEMENT_ENDPOINT,
    apiVersion: settings.AZUREML_API_VERSION,
    timeoutMs: settings.AZUREML_REST_TIMEOUT_MS,
    maxAttempts: settings.AZUREML_REST_MAX_ATTEMPTS,
    credential: isLoopbackHttp(settings.AZUREML_MANAGEMENT_ENDPOINT) ? undefined : await azureCredential(),
  });
  const loopbackArm = isLoopbackHttp(settings.AZUREML_MANAGEMENT_ENDPOINT);
  const mlflow = new MlflowClient(arm, {
    endpoint: settings.AZUREML_MLFLOW_ENDPOINT ?? (loopbackArm ? settings.AZUREML_MANAGEMENT_ENDPOINT : undefined),
  });
  const capture: CaptureDeps = {
    eventLog,
    graph,
    deadLetters,
    predictionRequests,
    enrichments: enrichmentQueue,
    registries: registryDirectory(settings.AML_REGISTRIES),
    closures: closureQueue,
    fanOut: fanOutQueue,
    now: () => new Date(),
    redactionKey: settings.REDACTION_KEY,
    approvalRules: parseApprovalRules(settings.APPROVAL_RULES ?? DEFAULT_APPROVAL_RULES),
    identities,
    ...(settings.OPENLINEAGE_EVENTHUB_NAME && settings.OPENLINEAGE_EVENTHUB_CONNECTION
      ? { publisher: new EventHubPublisher(settings.OPENLINEAGE_EVENTHUB_CONNECTION, settings.OPENLINEAGE_EVENTHUB_NAME, azureCredential) }
      : {}),
  };
  // Answers this process captured: an unchanged one fetched again is known done without a request.
  const captured = new BoundedMap<string, { eventId: string; eventType: string }>(CAPTURED_ANSWERS_KEPT);
  const enrich: EnrichDeps = { ...capture, arm, mlflow, apiVersion: settings.AZUREML_API_VERSION, captured };
  const tlog = buildTlog(settings, cosmos, blobs, meter, azureCredential);
  const complianceBlobs = new ComplianceBlobs(blobs.getContainerClient(settings.COMPLIANCE_CONTAINER));
  const compliance: ComplianceRunDeps = {
    stores: (runMeter) => ({
      graph: new GraphStore(containers.graph, runMeter),
      changes: {
        graph: new ChangeStream(containers.graph, runMeter),
        events: new ChangeStream(containers.events, runMeter),
        requests: new ChangeStream(containers.requests, runMeter),
      },
      records: {
        'raw-event': new RetainedRecords(containers.events, runMeter),
        'request-trace': new RetainedRecords(containers.requests, runMeter),
      },
      eventLog: new EventLog(containers.events, runMeter),
      tlog: tlog.storeFor(runMeter),
    }),
    blobs: complianceBlobs,
    holds: new HoldStore(complianceBlobs),
    retention: {
      rawEventsDays: settings.RETENTION_RAW_EVENTS_DAYS,
      requestsDays: settings.RETENTION_REQUESTS_DAYS,
      graceDays: settings.RETENTION_GRACE_DAYS,
      auditWindowDays: settings.AUDIT_WINDOW_DAYS,
    },
    freshness: { staleAfterHours: settings.FRESHNESS_STALE_HOURS },
    redactionKey: settings.REDACTION_KEY,
    now: () => new Date(),
    verifierKey: async () => (await tlog.publicKey()).verifierKey,
    telemetry: {
      connectionString: settings.APPLICATIONINSIGHTS_CONNECTION_STRING,
      authenticationString: settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING,
    },
    explorerOrigin: appOrigin(settings),
    identityReveals: identities,
  };
  const operations: OperationDeps = {
    operations: new OperationStore(blobs.getContainerClient(settings.OPERATIONS_CONTAINER)),
    queue: new OperationQueue(queues.getQueueClient(settings.OPERATIONS_QUEUE)),
    capture,
    compliance,
    now: () => new Date(),
  };
  return {
    settings,
    meter,
    graph,
    eventLog,
    deadLetters,
    predictionRequests,
    enrichmentQueue,
    closureQueue,
    fanOutQueue,
    identities,
    arm,
    mlflow,
    capture,
    enrich,
    compliance,
    tlog,
    operations,
    ping: async () => {
      await cosmos.database(settings.COSMOS_DATABASE).container(CONTAINERS.graph).read();
    },
    ensureStorage: async () => {
      await deadLetters.ensure();
      await enrichmentQueue.ensure();
      await closureQueue.ensure();
      await fanOutQueue.ensure();
      await identities.ensure();
      await complianceBlobs.ensure();
      await tlog.store.ensure();
      await operations.operations.ensure();
      await operations.queue.ensure();
    },
  };
}

async function createStorageClients(settings: Settings): Promise<{ blobs: BlobServiceClient; queues: QueueServiceClient }> {
  if (settings.STORAGE_CONNECTION_STRING) {
    return {
      blobs: BlobServiceClient.fromConnectionString(settings.STORAGE_CONNECTION_STRING),
      queues: QueueServiceClient.fromConnectionString(settings.STORAGE_CONNECTION_STRING),
    };
  }
  const cred = await azureCredential();
  const blobEndpoint = settings.STORAGE_BLOB_ENDPOINT as string;
  // The queue endpoint defaults to the blob account's: same account, different service.
  const queueEndpoint = settings.STORAGE_QUEUE_ENDPOINT ?? blobEndpoint.replace('.blob.', '.queue.');
  return { blobs: new BlobServiceClient(blobEndpoint, cred), queues: new QueueServiceClient(queueEndpoint, cred) };
}

let services: Promise<Services> | undefined;

export function getServices(): Promise<Services> {
  services ??= buildServices(loadSettings()).catch((error: unknown) => {
    services = undefined; // let the next invocation try again, e.g. after a settings fix
    throw error;
  });
  return services;
}
