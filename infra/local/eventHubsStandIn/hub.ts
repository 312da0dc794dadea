import type { Message } from 'rhea';
import { isAtOrAfter, type Positioned, type StartPosition } from './positions.js';

/**
 * The stand-in's storage: hubs with a fixed number of partitions, each an append-only log in
 * memory. Sequence numbers start at 0 per partition; offsets are byte positions in the partition
 * (the sum of the encoded sizes before the event), as in the service; events older than the
 * retention period are dropped, moving the partition's beginning sequence number.
 */
export interface StoredEvent extends Positioned {
  /** The event as the producer sent it (body, properties, annotations), decoded. */
  message: Message;
  partitionKey?: string;
}

export interface PartitionProperties {
  beginSequenceNumber: number;
  lastEnqueuedSequenceNumber: number;
  lastEnqueuedOffset: string;
  lastEnqueuedTimeUtc: Date;
  isEmpty: boolean;
}

export class Partition {
  private readonly log: StoredEvent[] = [];
  private nextSequenceNumber = 0;
  private nextOffset = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly id: string,
    private readonly retentionMs: number,
  ) {}

  append(message: Message, encodedSize: number, partitionKey: string | undefined, now: Date): StoredEvent {
    const event: StoredEvent = {
      message,
      sequenceNumber: this.nextSequenceNumber++,
      offset: this.nextOffset,
      enqueuedTime: now,
      ...(partitionKey !== undefined ? { partitionKey } : {}),
    };
    this.nextOffset += encodedSize;
    this.log.push(event);
    this.trim(now);
    return event;
  }

  /** Tells every reader that events arrived (after a whole batch is appended). */
  notify(): void {
    for (const listener of this.listeners) listener();
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The sequence number a reader starting at `start` reads first (possibly one not enqueued yet). */
  firstSequenceNumber(start: StartPosition, now: Date): number {
    this.trim(now);
    if (start.kind === 'latest') return this.nextSequenceNumber;
    return this.log.find((e) => isAtOrAfter(e, start))?.sequenceNumber ?? this.nextSequenceNumber;
  }

  /** The retained event with that sequence number, if any. */
  at(sequenceNumber: number): StoredEvent | undefined {
    const first = this.log[0];
    return first ? this.log[sequenceNumber - first.sequenceNumber] : undefined;
  }

  properties(now: Date): PartitionProperties {
    this.trim(now);
    const last = this.log[this.log.length - 1];
    return {
      beginSequenceNumber: this.log[0]?.sequenceNumber ?? this.nextSequenceNumber,
      lastEnqueuedSequenceNumber: last?.sequenceNumber ?? -1,
      lastEnqueuedOffset: String(last?.offset ?? -1),
      lastEnqueuedTimeUtc: last?.enqueuedTime ?? new Date(0),
      isEmpty: this.log.length === 0,
    };
  }

  private trim(now: Date): void {
    const oldest = now.getTime() - this.retentionMs;
    let drop = 0;
    while (drop < this.log.length && (this.log[drop] as StoredEvent).enqueuedTime.getTime() < oldest) drop++;
    if (drop > 0) this.log.splice(0, drop);
  }
}

export interface EventHubOptions {
  name: string;
  /** 1 to 32 in the service; 4 by default here. */
  partitionCount?: number;
  /** `$Default` always exists. */
  consumerGroups?: string[];
}

export class EventHub {
  readonly name: string;
  readonly createdAt: Date;
  readonly partitions: Partition[];
  private readonly consumerGroups: Set<string>;
  private roundRobin = 0;

  constructor(options: EventHubOptions, retentionMs: number, now: Date) {
    const count = options.partitionCount ?? 4;
    if (!Number.isInteger(count) || count < 1 || count > 32) throw new Error(`hub ${options.name}: partitionCount must be 1 to 32`);
    this.name = options.name;
    this.createdAt = now;
    this.partitions = Array.from({ length: count }, (_, i) => new Partition(String(i), retentionMs));
    this.consumerGroups = new Set(['$default', ...(options.consumerGroups ?? []).map((g) => g.toLowerCase())]);
  }

  partition(id: string): Partition | undefined {
    return /^\d+$/.test(id) ? this.partitions[Number(id)] : undefined;
  }

  hasConsumerGroup(name: string): boolean {
    return this.consumerGroups.has(name.toLowerCase());
  }

  /**
   * Where a batch sent to the hub goes: the same partition for the same key (a stable hash; the
   * service's own hash function is not documented), round robin without one.
   */
  route(partitionKey: string | undefined): Partition {
    if (partitionKey === undefined) return this.partitions[this.roundRobin++ % this.partitions.length] as Partition;
    let hash = 0x811c9dc5;
    for (const byte of Buffer.from(partitionKey, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
    return this.partitions[hash % this.partitions.length] as Partition;
  }
}
