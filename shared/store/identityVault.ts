import { randomBytes } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import { sealedSchema, type EnvelopeCipher } from '../privacy/envelope.js';

/**
 * The identity vault (Blob Storage): one sealed record per person, named by the keyed hash that
 * stands for them everywhere else (`records/{hash}.json`, written once), and the reveal log, one
 * write-once blob per reveal (`reveals/{yyyy}/{mm}/{dd}/{time}-{random}.json`: who, what, when).
 * Nothing here is readable without the wrapping key, and the reveal log holds hashes only.
 */
export const identityRecordSchema = z.object({ hash: z.string(), firstSeenAt: z.string(), sealed: sealedSchema });
export const revealSchema = z.object({
  at: z.string(),
  /** The identity revealed (its hash). */
  hash: z.string(),
  /** The auditor, as an identity hash of their principal name (or `function-key`). */
  by: z.string(),
  via: z.enum(['entra', 'key']),
  /** Why, as the auditor said (`reason` query parameter), if at all. */
  reason: z.string().optional(),
});
export type Reveal = z.infer<typeof revealSchema>;

/** What capture hands over: hash -> clear value of each person it replaced. */
export interface IdentitySink {
  remember(found: ReadonlyMap<string, string>): Promise<void>;
}

export class IdentityVault implements IdentitySink {
  /** Hashes known to be sealed already: each is written once per process at most. */
  private readonly known = new Set<string>();

  constructor(
    private readonly container: ContainerClient,
    private readonly cipher: EnvelopeCipher,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async ensure(): Promise<void> {
    await this.container.createIfNotExists();
  }

  async remember(found: ReadonlyMap<string, string>): Promise<void> {
    for (const [hash, value] of found) {
      if (this.known.has(hash)) continue;
      const record = { hash, firstSeenAt: this.now().toISOString(), sealed: await this.cipher.seal(value, hash) };
      const body = JSON.stringify(record);
      try {
        await this.container.getBlockBlobClient(`records/${hash}.json`).upload(body, Buffer.byteLength(body), {
          blobHTTPHeaders: { blobContentType: 'application/json' },
          conditions: { ifNoneMatch: '*' },
        });
      } catch (error) {
        // 409: sealed before (by this or another instance). The first record stays.
        if ((error as { statusCode?: unknown }).statusCode !== 409) throw error;
      }
      this.known.add(hash);
    }
  }

  /** The clear value behind a hash, or undefined when no record has it. Logs nothing: see `logReveal`. */
  async open(hash: string): Promise<{ value: string; firstSeenAt: string } | undefined> {
    let text: string;
    try {
      text = (await this.container.getBlockBlobClient(`records/${hash}.json`).downloadToBuffer()).toString('utf8');
    } catch (error) {
      if ((error as { statusCode?: unknown }).statusCode === 404) return undefined;
      throw error;
    }
    const record = identityRecordSchema.parse(JSON.parse(text));
    return { value: await this.cipher.open(record.sealed, record.hash), firstSeenAt: record.firstSeenAt };
  }

  async logReveal(reveal: Reveal): Promise<string> {
    const at = reveal.at;
    const name = `reveals/${at.slice(0, 4)}/${at.slice(5, 7)}/${at.slice(8, 10)}/${at.replace(/[:.]/g, '')}-${randomBytes(4).toString('hex')}.json`;
    const body = JSON.stringify(revealSchema.parse(reveal));
    await this.container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
      conditions: { ifNoneMatch: '*' },
    });
    return name;
  }

  /** Every reveal logged at or after `since` (by day prefix, then time), oldest first. */
  async reveals(since?: Date): Promise<Reveal[]> {
    const out: Reveal[] = [];
    const from = since?.toISOString() ?? '';
    for await (const item of this.container.listBlobsFlat({ prefix: 'reveals/' })) {
      const day = item.name.slice('reveals/'.length, 'reveals/'.length + 10).replace(/\//g, '-');
      if (from && day < from.slice(0, 10)) continue;
      const reveal = revealSchema.parse(
        JSON.parse((await this.container.getBlockBlobClient(item.name).downloadToBuffer()).toString('utf8')),
      );
      if (!from || reveal.at >= from) out.push(reveal);
    }
    return out.sort((a, b) => a.at.localeCompare(b.at));
  }
}
