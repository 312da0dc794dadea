import type { TokenCredential } from '@azure/identity';
import type { EventHubProducerClient } from '@azure/event-hubs';

/**
 * OpenLineage RunEvents to an Event Hub with the Azure SDK's EventHubProducerClient, so Purview,
 * Fabric or a Marquez fed from Kafka (Event Hubs speaks the Kafka protocol too) can consume our
 * lineage. `connection` is a connection string (local stand-in, emulator, SAS) or the namespace's
 * host name (`NS.servicebus.windows.net`), reached with the app's managed identity. The client is
 * loaded and connected on first use: apps that do not publish never pay for it.
 */
export class EventHubPublisher {
  private client: Promise<EventHubProducerClient> | undefined;

  constructor(
    private readonly connection: string,
    private readonly hub: string,
    private readonly credential: () => Promise<TokenCredential>,
  ) {}

  private producer(): Promise<EventHubProducerClient> {
    this.client ??= import('@azure/event-hubs').then(async ({ EventHubProducerClient }) =>
      /Endpoint=/i.test(this.connection)
        ? new EventHubProducerClient(this.connection, this.hub)
        : new EventHubProducerClient(this.connection, this.hub, await this.credential()),
    );
    return this.client;
  }

  async send(events: Array<{ partitionKey: string; body: Record<string, unknown> }>): Promise<void> {
    const producer = await this.producer();
    const byKey = new Map<string, Array<Record<string, unknown>>>();
    for (const e of events) byKey.set(e.partitionKey, [...(byKey.get(e.partitionKey) ?? []), e.body]);
    for (const [partitionKey, bodies] of byKey) {
      // One batch per job: its events land in one partition, in order.
      let batch = await producer.createBatch({ partitionKey });
      for (const body of bodies) {
        if (batch.tryAdd({ body, contentType: 'application/json' })) continue;
        await producer.sendBatch(batch);
        batch = await producer.createBatch({ partitionKey });
        if (!batch.tryAdd({ body, contentType: 'application/json' }))
          throw new Error(`an OpenLineage event for ${partitionKey} is larger than an Event Hubs batch`);
      }
      if (batch.count > 0) await producer.sendBatch(batch);
    }
  }

  async close(): Promise<void> {
    if (this.client) await (await this.client).close();
  }
}
