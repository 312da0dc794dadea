import { hostname } from 'node:os';
import type { FunctionsCore, RegisteredFunction, RpcTypedData } from './functionsCore.js';
import { bindingText, resolveSetting } from './bindingOptions.js';

/**
 * Event Hubs triggers as the Functions host runs them (Event Hubs extension 5.x):
 *
 * - one consumer per trigger over `@azure/event-hubs`, reading every partition of the hub named by
 *   `eventHubName` in its consumer group, from the checkpoint or else from the start of the stream
 *   (`initialOffsetOptions` fromStart), in batches of at most 100 events (`maxEventBatchSize`);
 * - checkpoints as blobs in the `azure-webjobs-eventhub` container of `AzureWebJobsStorage`
 *   (`@azure/eventhubs-checkpointstore-blob`, the layout the extension uses), written after every
 *   batch (`batchCheckpointFrequency` 1);
 * - the handler invoked with the batch and the trigger metadata the host sends, which the library
 *   camel-cases: `PartitionContext`, and per event (`...Array` with cardinality many)
 *   `PartitionKey`, `Offset`, `SequenceNumber`, `EnqueuedTimeUtc`, `Properties`, `SystemProperties`;
 * - a failed invocation retried by the function's retry policy (the partition waits meanwhile), and
 *   the checkpoint written once the retries are spent whether the last one succeeded or not: the
 *   host never holds a partition on a failing batch. Such a batch is logged with its positions.
 */
export const CHECKPOINT_CONTAINER = 'azure-webjobs-eventhub';
const MAX_EVENT_BATCH_SIZE = 100;
const MAX_WAIT_SECONDS = 1;

/** One event as the trigger hands it over. */
export interface TriggerEvent {
  body: string;
  sequenceNumber: number;
  offset: string;
  enqueuedTimeUtc: Date;
  partitionKey?: string | null;
  properties?: Record<string, unknown>;
}

export interface TriggerPartition {
  fullyQualifiedNamespace: string;
  eventHubName: string;
  consumerGroup: string;
  partitionId: string;
}

/** The typed data and metadata of one invocation, cardinality one or many. */
export function eventHubInvocation(
  fn: RegisteredFunction,
  events: TriggerEvent[],
  partition: TriggerPartition,
): { data: RpcTypedData; metadata: Record<string, unknown> } {
  const perEvent = events.map((e) => ({
    PartitionKey: e.partitionKey ?? null,
    Offset: e.offset,
    SequenceNumber: e.sequenceNumber,
    EnqueuedTimeUtc: e.enqueuedTimeUtc.toISOString(),
    Properties: e.properties ?? {},
  }));
  const context = {
    PartitionContext: {
      FullyQualifiedNamespace: partition.fullyQualifiedNamespace,
      EventHubName: partition.eventHubName,
      ConsumerGroup: partition.consumerGroup,
      PartitionId: partition.partitionId,
    },
  };
  const system = (p: (typeof perEvent)[number]) => ({
    SequenceNumber: p.SequenceNumber,
    Offset: p.Offset,
    PartitionKey: p.PartitionKey,
    EnqueuedTimeUtc: p.EnqueuedTimeUtc,
  });
  if (bindingText(fn.trigger.cardinality, 'one').toLowerCase() === 'many') {
    const column = <K extends keyof (typeof perEvent)[number]>(key: K) => perEvent.map((p) => p[key]);
    return {
      data: { collectionString: { string: events.map((e) => e.body) } },
      metadata: {
        ...context,
        PartitionKeyArray: column('PartitionKey'),
        OffsetArray: column('Offset'),
        SequenceNumberArray: column('SequenceNumber'),
        EnqueuedTimeUtcArray: column('EnqueuedTimeUtc'),
        PropertiesArray: column('Properties'),
        SystemPropertiesArray: perEvent.map(system),
      },
    };
  }
  const [one] = perEvent;
  if (!one || events.length !== 1) throw new Error(`${fn.metadata.name} takes one event per invocation (cardinality one)`);
  return { data: { string: (events[0] as TriggerEvent).body }, metadata: { ...context, ...one, SystemProperties: system(one) } };
}

/** The host's metadata is JSON typed data per key. */
export function typedMetadata(metadata: Record<string, unknown>): Record<string, RpcTypedData> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, { json: JSON.stringify(v) }]));
}

interface RetryOptions {
  retryStrategy?: string;
  maxRetryCount?: number;
  delayInterval?: { seconds?: number };
  minimumInterval?: { seconds?: number };
  maximumInterval?: { seconds?: number };
}

/** Milliseconds before retry `attempt` (1-based) under the function's retry policy. */
export function retryDelayMs(retry: RetryOptions, attempt: number): number {
  const seconds = (d?: { seconds?: number }) => (d?.seconds ?? 0) * 1000;
  if (retry.retryStrategy === 'fixedDelay') return seconds(retry.delayInterval);
  const min = seconds(retry.minimumInterval);
  return Math.min(min * 2 ** (attempt - 1), seconds(retry.maximumInterval) || Number.POSITIVE_INFINITY);
}

export interface EventHubTriggers {
  stop(): Promise<void>;
}

/**
 * Starts a consumer for every Event Hubs trigger whose connection setting is present (a connection
 * string, or `<setting>__fullyQualifiedNamespace` for a signed-in identity). Without one the
 * function still runs through `POST /admin/functions/NAME`.
 */
export async function startEventHubTriggers(
  core: FunctionsCore,
  functions: RegisteredFunction[],
  log: (line: string) => void,
  env: Record<string, string | undefined> = process.env,
): Promise<EventHubTriggers> {
  const triggers = functions.filter((f) => f.trigger.type.toLowerCase() === 'eventhubtrigger');
  const running: Array<() => Promise<void>> = [];
  for (const fn of triggers) {
    const setting = bindingText(fn.trigger.connection, 'EventHubConnection');
    const connection = env[setting];
    const namespace = env[`${setting}__fullyQualifiedNamespace`];
    if (!connection && !namespace) {
      log(`[host] ${fn.metadata.name}: app setting ${setting} is not set; run it with POST /admin/functions/${fn.metadata.name}`);
      continue;
    }
    const storage = env.AzureWebJobsStorage;
    if (!storage)
      throw new Error(`${fn.metadata.name}: AzureWebJobsStorage must be a storage connection string to keep Event Hubs checkpoints`);
    running.push(await consume(core, fn, { connection, namespace, storage }, log));
  }
  return {
    stop: async () => {
      await Promise.all(running.map((stop) => stop()));
    },
  };
}

async function consume(
  core: FunctionsCore,
  fn: RegisteredFunction,
  settings: { connection?: string; namespace?: string; storage: string },
  log: (line: string) => void,
): Promise<() => Promise<void>> {
  const [{ EventHubConsumerClient, earliestEventPosition }, { BlobCheckpointStore }, { ContainerClient }] = await Promise.all([
    import('@azure/event-hubs'),
    import('@azure/eventhubs-checkpointstore-blob'),
    import('@azure/storage-blob'),
  ]);
  const name = fn.metadata.name;
  const hub = String(resolveSetting(fn.trigger.eventHubName));
  const consumerGroup = String(resolveSetting(fn.trigger.consumerGroup ?? '$Default'));
  const container = new ContainerClient(settings.storage, CHECKPOINT_CONTAINER);
  await container.createIfNotExists();
  const checkpoints = new BlobCheckpointStore(container);
  // One owner per machine. Claims it left behind belong to a host that died without giving them up
  // (killed, crashed); released now, the partitions are taken back at once instead of after their
  // one-minute expiry, and reading resumes from the checkpoints.
  const identifier = `local-host@${hostname()}`;
  const options = { identifier, loadBalancingOptions: { strategy: 'greedy' as const } };
  const client = settings.connection
    ? new EventHubConsumerClient(consumerGroup, settings.connection, hub, checkpoints, options)
    : new EventHubConsumerClient(
        consumerGroup,
        settings.namespace as string,
        hub,
        new (await import('@azure/identity')).DefaultAzureCredential(),
        checkpoints,
        options,
      );
  const stale = (await checkpoints.listOwnership(client.fullyQualifiedNamespace, hub, consumerGroup)).filter(
    (o) => o.ownerId === identifier,
  );
  if (stale.length > 0) await checkpoints.claimOwnership(stale.map((o) => ({ ...o, ownerId: '' })));
  const retry = (fn.metadata.retryOptions ?? {}) as RetryOptions;
  const maxRetries = retry.maxRetryCount ?? 0;
  const stopping = new AbortController();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      stopping.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });

  const subscription = client.subscribe(
    {
      processEvents: async (received, context) => {
        if (received.length === 0) return;
        const events: TriggerEvent[] = received.map((e) => ({
          body: Buffer.isBuffer(e.body) ? e.body.toString('utf8') : typeof e.body === 'string' ? e.body : JSON.stringify(e.body),
          sequenceNumber: e.sequenceNumber,
          offset: e.offset,
          enqueuedTimeUtc: e.enqueuedTimeUtc,
          partitionKey: e.partitionKey,
          ...(e.properties ? { properties: e.properties } : {}),
        }));
        const partition = {
          fullyQualifiedNamespace: context.fullyQualifiedNamespace,
          eventHubName: context.eventHubName,
          consumerGroup: context.consumerGroup,
          partitionId: context.partitionId,
        };
        const { data, metadata } = eventHubInvocation(fn, events, partition);
        for (let attempt = 0; ; attempt++) {
          try {
            const retryContext = attempt > 0 ? { retryCount: attempt, maxRetryCount: maxRetries } : undefined;
            await core.invoke(name, [{ name: fn.trigger.name, data }], typedMetadata(metadata), retryContext);
            break;
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            if (stopping.signal.aborted) return; // the execution never completed: no checkpoint, the batch is read again
            if (maxRetries === -1 || attempt < maxRetries) {
              const wait = retryDelayMs(retry, attempt + 1);
              log(`[${new Date().toISOString()}] ${name}: invocation failed (${message}); retry ${attempt + 1} in ${wait / 1000} s`);
              await sleep(wait);
              if (stopping.signal.aborted) return;
              continue;
            }
            log(`[${new Date().toISOString()}] ${name}: ${describeLoss(partition, events, message)}`);
            break;
          }
        }
        await context.updateCheckpoint(received[received.length - 1] as (typeof received)[number]);
      },
      processError: (error, context) => {
        log(`[host] ${name}: Event Hubs ${context.partitionId ? `partition ${context.partitionId}` : 'consumer'}: ${error.message}`);
        return Promise.resolve();
      },
    },
    {
      startPosition: earliestEventPosition,
      maxBatchSize: bindingText(fn.trigger.cardinality, 'one').toLowerCase() === 'many' ? MAX_EVENT_BATCH_SIZE : 1,
      maxWaitTimeInSeconds: MAX_WAIT_SECONDS,
      skipParsingBodyAsJson: true,
    },
  );
  log(`[host] ${name}: consuming hub ${hub} (consumer group ${consumerGroup}), checkpoints in ${CHECKPOINT_CONTAINER}`);
  return async () => {
    stopping.abort();
    await subscription.close();
    await client.close();
  };
}

/** What the host moved past without processing. */
export function describeLoss(partition: TriggerPartition, events: TriggerEvent[], reason: string): string {
  const first = events[0] as TriggerEvent;
  const last = events[events.length - 1] as TriggerEvent;
  return (
    `retries spent; checkpointing past partition ${partition.partitionId} sequence numbers ${first.sequenceNumber}-${last.sequenceNumber} ` +
    `(enqueued ${first.enqueuedTimeUtc.toISOString()} to ${last.enqueuedTimeUtc.toISOString()}) as the Functions host does: ${reason}`
  );
}
