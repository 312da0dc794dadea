import type { Server, Socket } from 'node:net';
import rhea from 'rhea';
import type { Connection, Delivery, EventContext, Message, Receiver, Sender } from 'rhea';
import { EventHub, type EventHubOptions, type Partition, type StoredEvent } from './hub.js';
import { parseSelectorFilter, isAtOrAfter, type StartPosition } from './positions.js';
import { covers, resourcePath, verifySasToken, type SasClaim } from './sas.js';

/**
 * A local Event Hubs namespace speaking AMQP 1.0 on rhea (the AMQP library the Azure client uses),
 * so `@azure/event-hubs` runs against it unchanged through a `UseDevelopmentEmulator=true`
 * connection string (plain AMQP, SASL ANONYMOUS, on loopback). It answers what the client asks:
 *
 * - `$cbs` put-token: shared access signatures checked against the namespace keys; a link opens
 *   only on a connection holding an unexpired token whose scope covers its entity.
 * - `$management` READ of `com.microsoft:eventhub` (name, created_at, partition_ids) and
 *   `com.microsoft:partition` (sequence numbers, offsets, enqueued times, is_partition_empty).
 * - send links to `hub` or `hub/Partitions/N` (single messages and the client's batch format
 *   0x80013700), routed by partition key or round robin, at most 1 MB per transfer.
 * - receive links on `hub/ConsumerGroups/G/Partitions/N` from the position in the selector filter,
 *   with the `x-opt-*` annotations the client turns into sequence number, offset, enqueued time and
 *   partition key, owner-level (epoch) receivers that take a partition over from lower ones, and
 *   the last-enqueued-event delivery annotations when the receiver asks for them.
 *
 * Not implemented: Azure AD tokens (jwt), idempotent publishing, geo-replication, WebSockets, TLS.
 */
export interface StandInOptions {
  hubs: EventHubOptions[];
  /** Shared access keys by name; the emulator's published pair by default. */
  keys: Record<string, string>;
  retentionMs: number;
  now: () => Date;
  log: (line: string) => void;
}

const BATCH_FORMAT = 0x80013700;
const MAX_MESSAGE_BYTES = 1024 * 1024; // Standard tier's event (or batch) size limit
const SELECTOR_FILTER = 'apache.org:selector-filter:string';
const EPOCH = 'com.microsoft:epoch';
const RUNTIME_METRIC = 'com.microsoft:enable-receiver-runtime-metric';
const LINK_STOLEN = 'amqp:link:stolen';

interface Reader {
  sender: Sender;
  hub: EventHub;
  consumerGroup: string;
  partition: Partition;
  epoch: number | undefined;
  start: StartPosition;
  next: number;
  runtimeMetrics: boolean;
  unsubscribe: () => void;
}

type Attach = { source?: { address?: string; filter?: Record<string, unknown> }; target?: { address?: string } };

export class EventHubsNamespace {
  readonly hubs = new Map<string, EventHub>();
  private readonly claims = new WeakMap<Connection, SasClaim[]>();
  private readonly readers = new Set<Reader>();
  // Deliveries are settled by onMessage itself: accepted once stored, rejected with the reason.
  private readonly container = rhea.create_container({ id: 'eventhubs-standin', autoaccept: false });
  private readonly sockets = new Set<Socket>();
  private server?: Server;

  constructor(private readonly options: StandInOptions) {
    for (const hub of options.hubs) this.hubs.set(hub.name.toLowerCase(), new EventHub(hub, options.retentionMs, options.now()));
    const sasl = this.container.sasl_server_mechanisms as { enable_anonymous(): void };
    sasl.enable_anonymous();
    this.container.on('sender_open', (ctx: EventContext) => this.guard(ctx, () => this.onPeerReceiver(ctx.sender as Sender)));
    this.container.on('receiver_open', (ctx: EventContext) => this.guard(ctx, () => this.onPeerSender(ctx.receiver as Receiver)));
    this.container.on('message', (ctx: EventContext) => this.guard(ctx, () => this.onMessage(ctx)));
    this.container.on('sendable', (ctx: EventContext) => this.pumpFor(ctx.sender));
    this.container.on('sender_close', (ctx: EventContext) => this.dropReaders((r) => r.sender === ctx.sender));
    for (const gone of ['connection_close', 'disconnected'])
      this.container.on(gone, (ctx: EventContext) => this.dropReaders((r) => r.sender.connection === ctx.connection));
    this.container.on('error', (error: unknown) => this.options.log(`[eventhubs] ${String(error)}`));
  }

  async listen(port: number, host: string): Promise<number> {
    const server = this.container.listen({ port, host });
    this.server = server;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      if (server.listening) return resolve();
      server.once('listening', resolve);
      server.once('error', reject);
    });
    return (server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    this.dropReaders(() => true);
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Sends the client a detach (or rejection) it can translate instead of dropping the connection. */
  private guard(ctx: EventContext, action: () => void): void {
    try {
      action();
    } catch (error) {
      const { condition, description } = amqpError(error);
      this.options.log(`[eventhubs] ${condition}: ${description}`);
      if (ctx.delivery && !ctx.delivery.remote_settled) ctx.delivery.reject({ condition, description });
      else (ctx.sender ?? ctx.receiver)?.close({ condition, description });
    }
  }

  // The peer opened a receiver: our end sends, from $cbs/$management replies or a partition.
  private onPeerReceiver(sender: Sender): void {
    const attach = remoteAttach(sender);
    sender.set_source({ address: attach.source?.address ?? '', ...(attach.source?.filter ? { filter: attach.source.filter } : {}) });
    sender.set_target({ address: attach.target?.address ?? '' });
    const address = attach.source?.address ?? '';
    if (address === '$cbs' || address.endsWith('$management')) return; // reply links, matched by reply_to
    const m = /^([^/]+)\/ConsumerGroups\/([^/]+)\/Partitions\/([^/]+)$/i.exec(address);
    if (!m) throw new StandInError('amqp:not-found', `no receivable entity at "${address}"`);
    const hub = this.hub(m[1] as string);
    const consumerGroup = m[2] as string;
    if (!hub.hasConsumerGroup(consumerGroup))
      throw new StandInError('amqp:not-found', `consumer group "${consumerGroup}" does not exist in hub ${hub.name}`);
    const partition = hub.partition(m[3] as string);
    if (!partition) throw new StandInError('amqp:not-found', `hub ${hub.name} has no partition "${m[3]}"`);
    this.authorize(sender.connection, address);

    const filter = attach.source?.filter?.[SELECTOR_FILTER];
    const expression = typeof filter === 'string' ? filter : (filter as { value?: unknown } | undefined)?.value;
    const start: StartPosition = typeof expression === 'string' ? parseSelectorFilter(expression) : { kind: 'latest' };
    const epochValue = (sender.properties as Record<string, unknown> | undefined)?.[EPOCH];
    const epoch = epochValue === undefined || epochValue === null ? undefined : Number(epochValue);
    this.takeOver(hub, consumerGroup, partition, epoch);
    const capabilities = ([] as string[]).concat(sender.desired_capabilities ?? []);
    const reader: Reader = {
      sender,
      hub,
      consumerGroup,
      partition,
      epoch,
      start,
      next: partition.firstSequenceNumber(start, this.options.now()),
      runtimeMetrics: capabilities.includes(RUNTIME_METRIC),
      unsubscribe: partition.onAppend(() => this.pump(reader)),
    };
    this.readers.add(reader);
  }

  /**
   * Owner levels: a receiver with an owner level closes the partition's receivers (same consumer
   * group) without one or with a lower or equal one; a lower one is refused.
   */
  private takeOver(hub: EventHub, consumerGroup: string, partition: Partition, epoch: number | undefined): void {
    const rivals = [...this.readers].filter(
      (r) => r.hub === hub && r.partition === partition && r.consumerGroup.toLowerCase() === consumerGroup.toLowerCase(),
    );
    const higher = rivals.find((r) => r.epoch !== undefined && (epoch === undefined || r.epoch > epoch));
    if (higher)
      throw new StandInError(
        LINK_STOLEN,
        `a receiver with owner level ${higher.epoch} already reads partition ${partition.id} of ${hub.name}`,
      );
    if (epoch === undefined) return;
    for (const rival of rivals) {
      this.readers.delete(rival);
      rival.unsubscribe();
      rival.sender.close({
        condition: LINK_STOLEN,
        description: `a receiver with owner level ${epoch} took over partition ${partition.id} of ${hub.name}`,
      });
    }
  }

  // The peer opened a sender: our end receives requests ($cbs, $management) or events.
  private onPeerSender(receiver: Receiver): void {
    const attach = remoteAttach(receiver);
    const address = attach.target?.address ?? '';
    receiver.set_source({ address: attach.source?.address ?? '' });
    receiver.set_target({ address });
    (receiver as unknown as { local: { attach: { max_message_size: number } } }).local.attach.max_message_size = MAX_MESSAGE_BYTES;
    if (address === '$cbs' || address.endsWith('$management')) return;
    const { hub, partition } = this.sendTarget(address);
    this.authorize(receiver.connection, partition ? `${hub.name}/partitions/${partition.id}` : hub.name);
  }

  private onMessage(ctx: EventContext): void {
    const receiver = ctx.receiver as Receiver;
    const address = remoteAttach(receiver).target?.address ?? '';
    const delivery = ctx.delivery as Delivery;
    // rhea hands over a message in a non-standard format (the client's batches) undecoded.
    const batch = (ctx as { format?: number }).format === BATCH_FORMAT;
    const message = batch ? (rhea.message.decode(ctx.message as unknown as Buffer) as unknown as Message) : (ctx.message as Message);
    if (address === '$cbs') this.reply(ctx, this.putToken(ctx.connection, message));
    else if (address.endsWith('$management')) this.reply(ctx, this.management(message));
    else this.store(address, message, batch);
    delivery.accept();
  }

  private store(address: string, message: Message, batch: boolean): void {
    const { hub, partition: fixed } = this.sendTarget(address);
    const events = batch ? unbatch(message) : [message];
    const size = events.reduce((n, e) => n + rhea.message.encode(e).length, 0);
    if (size > MAX_MESSAGE_BYTES)
      throw new StandInError('amqp:link:message-size-exceeded', `the batch is ${size} bytes; at most ${MAX_MESSAGE_BYTES} are accepted`);
    const key = partitionKeyOf(message);
    if (fixed && key !== undefined)
      throw new StandInError('amqp:invalid-field', 'a partition key cannot be used when sending to a partition');
    // A batch lands in one partition, in order, as in the service.
    const partition = fixed ?? hub.route(key);
    const now = this.options.now();
    for (const event of events) partition.append(event, rhea.message.encode(event).length, partitionKeyOf(event) ?? key, now);
    partition.notify();
  }

  private putToken(connection: Connection, request: Message): Reply {
    const props = request.application_properties ?? {};
    if (props.operation !== 'put-token') return { status: 400, description: `unknown $cbs operation "${String(props.operation)}"` };
    if (props.type !== 'servicebus.windows.net:sastoken')
      return { status: 401, description: `token type "${String(props.type)}" is not supported here; use a shared access key` };
    const check = verifySasToken(String(request.body), this.options.keys, this.options.now());
    if (!check.ok) return { status: 401, description: `InvalidSignature: ${check.reason}` };
    if (!covers(check.claim.scope, resourcePath(String(props.name ?? ''))))
      return { status: 401, description: `the token for "${check.claim.scope}" does not cover "${String(props.name)}"` };
    const claims = (this.claims.get(connection) ?? []).filter((c) => c.expiresAt > this.options.now());
    claims.push(check.claim);
    this.claims.set(connection, claims);
    return { status: 202, description: 'Accepted' };
  }

  private management(request: Message): Reply {
    const props = request.application_properties ?? {};
    const token = verifySasToken(String(props.security_token ?? ''), this.options.keys, this.options.now());
    if (!token.ok) return { status: 401, description: `InvalidSignature: ${token.reason}` };
    if (props.operation !== 'READ') return { status: 400, description: `unknown management operation "${String(props.operation)}"` };
    const hub = this.hubs.get(String(props.name ?? '').toLowerCase());
    if (!hub) return { status: 404, description: `the messaging entity "${String(props.name)}" could not be found` };
    if (!covers(token.claim.scope, hub.name.toLowerCase()))
      return { status: 401, description: `the token for "${token.claim.scope}" does not cover hub ${hub.name}` };
    if (props.type === 'com.microsoft:eventhub')
      return {
        status: 200,
        body: {
          name: hub.name,
          type: 'com.microsoft:eventhub',
          created_at: hub.createdAt,
          partition_count: hub.partitions.length,
          partition_ids: hub.partitions.map((p) => p.id),
        },
      };
    if (props.type === 'com.microsoft:partition') {
      const partition = hub.partition(String(props.partition ?? ''));
      if (!partition) return { status: 404, description: `hub ${hub.name} has no partition "${String(props.partition)}"` };
      const p = partition.properties(this.options.now());
      return {
        status: 200,
        body: {
          name: hub.name,
          type: 'com.microsoft:partition',
          partition: partition.id,
          begin_sequence_number: rhea.types.wrap_long(p.beginSequenceNumber),
          last_enqueued_sequence_number: rhea.types.wrap_long(p.lastEnqueuedSequenceNumber),
          last_enqueued_offset: p.lastEnqueuedOffset,
          last_enqueued_time_utc: p.lastEnqueuedTimeUtc,
          is_partition_empty: p.isEmpty,
        },
      };
    }
    return { status: 400, description: `unknown management entity type "${String(props.type)}"` };
  }

  /** Answers on the peer's receiver named by the request's reply-to (its target address, or its name when it has none). */
  private reply(ctx: EventContext, reply: Reply): void {
    const request = ctx.message as Message;
    const link = (ctx.connection as unknown as { find_sender(filter: (s: Sender) => boolean): Sender | undefined }).find_sender(
      (s) => (remoteAttach(s).target?.address || s.name) === request.reply_to,
    );
    if (!link) throw new StandInError('amqp:precondition-failed', `no link answers reply-to "${String(request.reply_to)}"`);
    link.send({
      correlation_id: request.message_id,
      application_properties: { 'status-code': reply.status, 'status-description': reply.description ?? 'OK' },
      body: reply.body === undefined ? undefined : rhea.types.wrap_map(reply.body),
    });
  }

  private sendTarget(address: string): { hub: EventHub; partition?: Partition } {
    const m = /^([^/]+)(?:\/Partitions\/([^/]+))?$/i.exec(address);
    if (!m) throw new StandInError('amqp:not-found', `no sendable entity at "${address}"`);
    const hub = this.hub(m[1] as string);
    if (m[2] === undefined) return { hub };
    const partition = hub.partition(m[2]);
    if (!partition) throw new StandInError('amqp:not-found', `hub ${hub.name} has no partition "${m[2]}"`);
    return { hub, partition };
  }

  private hub(name: string): EventHub {
    const hub = this.hubs.get(name.toLowerCase());
    if (!hub) throw new StandInError('amqp:not-found', `the messaging entity "${name}" could not be found`);
    return hub;
  }

  private authorize(connection: Connection, entity: string): void {
    const path = resourcePath(entity);
    const now = this.options.now();
    if (!(this.claims.get(connection) ?? []).some((c) => c.expiresAt > now && covers(c.scope, path)))
      throw new StandInError('amqp:unauthorized-access', `no valid $cbs token on this connection covers "${entity}"`);
  }

  private pumpFor(sender: Sender | undefined): void {
    for (const reader of this.readers) if (reader.sender === sender) this.pump(reader);
  }

  private pump(reader: Reader): void {
    while (reader.sender.sendable()) {
      const event = reader.partition.at(reader.next);
      if (!event) {
        // Trimmed by retention while the reader lagged: move on to what is left.
        const begin = reader.partition.properties(this.options.now()).beginSequenceNumber;
        if (reader.next >= begin) return;
        reader.next = begin;
        continue;
      }
      reader.next++;
      if (reader.start.kind !== 'latest' && !isAtOrAfter(event, reader.start)) continue;
      reader.sender.send(this.outgoing(event, reader));
    }
  }

  private outgoing(event: StoredEvent, reader: Reader): Message {
    const annotations: Record<string, unknown> = {
      ...(event.message.message_annotations ?? {}),
      'x-opt-sequence-number': rhea.types.wrap_long(event.sequenceNumber),
      'x-opt-offset': String(event.offset),
      'x-opt-enqueued-time': event.enqueuedTime,
    };
    if (event.partitionKey !== undefined) annotations['x-opt-partition-key'] = event.partitionKey;
    const message: Message = { ...event.message, message_annotations: annotations };
    if (reader.runtimeMetrics) {
      const p = reader.partition.properties(this.options.now());
      message.delivery_annotations = {
        last_enqueued_sequence_number: rhea.types.wrap_long(p.lastEnqueuedSequenceNumber),
        last_enqueued_offset: p.lastEnqueuedOffset,
        last_enqueued_time_utc: p.lastEnqueuedTimeUtc,
        runtime_info_retrieval_time_utc: this.options.now(),
      };
    }
    return message;
  }

  private dropReaders(which: (r: Reader) => boolean): void {
    for (const reader of [...this.readers].filter(which)) {
      reader.unsubscribe();
      this.readers.delete(reader);
    }
  }
}

interface Reply {
  status: number;
  description?: string;
  body?: Record<string, unknown>;
}

class StandInError extends Error {
  constructor(
    readonly condition: string,
    message: string,
  ) {
    super(message);
  }
}

function amqpError(error: unknown): { condition: string; description: string } {
  if (error instanceof StandInError) return { condition: error.condition, description: error.message };
  return { condition: 'amqp:internal-error', description: error instanceof Error ? error.message : String(error) };
}

function remoteAttach(link: Sender | Receiver): Attach {
  return (link as unknown as { remote: { attach?: Attach } }).remote.attach ?? {};
}

/** The client's batch: the envelope's body is a list of data sections, each an encoded message. */
function unbatch(envelope: Message): Message[] {
  const body = envelope.body as { content?: unknown; multiple?: boolean } | undefined;
  const sections = body?.multiple ? (body.content as Buffer[]) : body?.content ? [body.content as Buffer] : [];
  return sections.map((section) => rhea.message.decode(Buffer.from(section)) as unknown as Message);
}

function partitionKeyOf(message: Message): string | undefined {
  const key: unknown = message.message_annotations?.['x-opt-partition-key'];
  return typeof key === 'string' ? key : undefined;
}
