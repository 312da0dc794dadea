import type { ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import { canonicalJson } from '../util/canonicalJson.js';
import { storeCall, unlessNotFound } from './storeErrors.js';

/**
 * Events we accepted but could not project, with the reason, in Blob Storage (Azurite locally),
 * where Event Grid's own dead letters also land. A letter is named by its channel and the event's
 * content hash (`pending/eventgrid/{hash}.json`): the same bad event twice on one channel is one
 * letter, and the same body on two channels is two letters, each with its own attempts. `pending/` letters are re-processed by the replay
 * command; those that then succeed move to `resolved/`.
 */
export const deadLetterSchema = z.object({
  hash: z.string(),
  channel: z.string(),
  receivedAt: z.string(),
  /** One sentence a person can act on. */
  reason: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
  /** A logged event whose stored body no longer hashes to its id: evidence of tampering, never re-processed. */
  integrityFailure: z.literal(true).optional(),
  eventId: z.string().optional(),
  eventType: z.string().optional(),
  delivery: z.record(z.string(), z.unknown()).optional(),
  body: z.unknown(),
  attempts: z.number().int().min(1),
  resolvedAt: z.string().optional(),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

const PENDING = 'pending/';

/** The blob of a letter; the channel is reduced to a safe path segment (it comes from our code, but a path is a path). */
export function letterName(state: 'pending' | 'resolved', channel: string, hash: string): string {
  const segment = channel.toLowerCase().replace(/[^a-z0-9-]/g, '-') || 'unknown';
  return `${state}/${segment}/${hash.replace(/^sha256:/, '')}.json`;
}

export class DeadLetterStore {
  constructor(private readonly container: ContainerClient) {}

  async ensure(): Promise<void> {
    await storeCall(`creating the container ${this.container.containerName}`, () => this.container.createIfNotExists());
  }

  async put(letter: Omit<DeadLetter, 'attempts'>): Promise<string> {
    const name = letterName('pending', letter.channel, letter.hash);
    const previous = await this.read(name);
    // canonicalJson, not JSON.stringify: a letter may hold an event too deeply nested to recurse over.
    const body = canonicalJson({ ...letter, attempts: (previous?.attempts ?? 0) + 1 } satisfies DeadLetter);
    await storeCall(`writing ${name}`, () =>
      this.container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
        metadata: { channel: letter.channel, eventtype: sanitizeMetadata(letter.eventType ?? 'unknown') },
      }),
    );
    return name;
  }

  async read(name: string): Promise<DeadLetter | undefined> {
    const buffer = await unlessNotFound(storeCall(`reading ${name}`, () => this.container.getBlockBlobClient(name).downloadToBuffer()));
    return buffer && deadLetterSchema.parse(JSON.parse(buffer.toString('utf8')));
  }

  async *pending(): AsyncGenerator<{ name: string; letter: DeadLetter }> {
    for await (const item of this.container.listBlobsFlat({ prefix: PENDING })) {
      const letter = await this.read(item.name);
      if (letter) yield { name: item.name, letter };
    }
  }

  async countPending(): Promise<number> {
    let n = 0;
    for await (const _ of this.container.listBlobsFlat({ prefix: PENDING })) n++;
    return n;
  }

  /** Moves a letter whose event now projects to `resolved/`, keeping the record of what happened. */
  async resolve(name: string, resolvedAt: string): Promise<void> {
    const letter = await this.read(name);
    if (!letter) return;
    const body = canonicalJson({ ...letter, resolvedAt });
    const resolved = letterName('resolved', letter.channel, letter.hash);
    await storeCall(`writing ${resolved}`, () =>
      this.container.getBlockBlobClient(resolved).upload(body, Buffer.byteLength(body), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
      }),
    );
    await storeCall(`deleting ${name}`, () => this.container.getBlockBlobClient(name).deleteIfExists());
  }
}

function sanitizeMetadata(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 256);
}
