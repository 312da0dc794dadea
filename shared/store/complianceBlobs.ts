import type { ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import { ConflictStoreError, PreconditionFailedStoreError, TransientStoreError } from '../errors.js';
import { storeCall, unlessNotFound } from './storeErrors.js';

/**
 * The compliance blob container: per-check run state (`state/{check}.json`), reports
 * (`reports/{yyyy}/{mm}/{dd}/{runId}.json|.html`, `reports/latest.json`, `reports/history.json`),
 * legal holds (`holds/{id}.json`) and the retention archive (`archive/...`).
 *
 * State is written with the ETag it was read with, so two runs of one check (a timer and a manual
 * run) cannot both commit: the loser fails and its next run starts from the winner's state. And
 * a run first takes a lease per check (`locks/{check}`), so a second run of a check does not even
 * start while one runs: several at once kept the store busy for minutes doing the same work.
 */
const LEASE_SECONDS = 60;

export class ComplianceBlobs {
  constructor(readonly container: ContainerClient) {}

  async ensure(): Promise<void> {
    await storeCall(`creating the container ${this.container.containerName}`, () => this.container.createIfNotExists());
  }

  async readJson<T>(name: string, schema: z.ZodType<T>): Promise<{ value: T; etag: string } | undefined> {
    const found = await unlessNotFound(
      storeCall(`reading ${name}`, async () => {
        const response = await this.container.getBlockBlobClient(name).download();
        return { text: await streamToString(response.readableStreamBody), etag: response.etag ?? '' };
      }),
    );
    return found && { value: schema.parse(JSON.parse(found.text)), etag: found.etag };
  }

  /** Writes `value`; with `etag` only if the blob is unchanged (`null`: only if it does not exist yet). */
  /** Returns the blob's new ETag, for the next conditional write. */
  async writeJson(name: string, value: unknown, etag?: string | null, contentType = 'application/json'): Promise<string> {
    return this.writeText(name, JSON.stringify(value), etag, contentType);
  }

  async writeText(name: string, text: string, etag?: string | null, contentType = 'text/plain'): Promise<string> {
    const conditions = etag === null ? { ifNoneMatch: '*' } : etag ? { ifMatch: etag } : undefined;
    try {
      const response = await storeCall(`writing ${name}`, () =>
        this.container.getBlockBlobClient(name).upload(text, Buffer.byteLength(text), {
          blobHTTPHeaders: { blobContentType: contentType },
          conditions,
        }),
      );
      return response.etag ?? '';
    } catch (error) {
      if (error instanceof PreconditionFailedStoreError || error instanceof ConflictStoreError)
        throw new TransientStoreError(`${name} was changed by another compliance run; this run's results were not saved`, error);
      throw error;
    }
  }

  async exists(name: string): Promise<boolean> {
    return storeCall(`looking for ${name}`, () => this.container.getBlockBlobClient(name).exists());
  }

  async delete(name: string): Promise<boolean> {
    const response = await storeCall(`deleting ${name}`, () => this.container.getBlockBlobClient(name).deleteIfExists());
    return response.succeeded;
  }

  /**
   * Takes the blob lease on `locks/{name}` (60 s, renewed every 20 s while held), or answers
   * undefined when another run holds it. A run that dies stops renewing, so its lease lapses
   * within a minute. Call the returned function to give the lease back.
   */
  async lease(name: string): Promise<(() => Promise<void>) | undefined> {
    const blob = this.container.getBlockBlobClient(`locks/${name}`);
    try {
      await storeCall(`creating locks/${name}`, () => blob.upload('', 0, { conditions: { ifNoneMatch: '*' } }));
    } catch (error) {
      // Already there (409), or there and leased (412): either way there is a blob to lease.
      if (!(error instanceof ConflictStoreError || error instanceof PreconditionFailedStoreError)) throw error;
    }
    const leases = blob.getBlobLeaseClient();
    try {
      await storeCall(`leasing locks/${name}`, () => leases.acquireLease(LEASE_SECONDS));
    } catch (error) {
      if (error instanceof ConflictStoreError) return undefined; // LeaseAlreadyPresent
      throw error;
    }
    const renew = setInterval(() => void leases.renewLease().catch(() => undefined), (LEASE_SECONDS * 1000) / 3);
    renew.unref();
    return async () => {
      clearInterval(renew);
      await leases.releaseLease().catch(() => undefined); // an unreleased lease lapses on its own
    };
  }

  async list(prefix: string): Promise<string[]> {
    return storeCall(`listing ${prefix}`, async () => {
      const names: string[] = [];
      for await (const blob of this.container.listBlobsFlat({ prefix })) names.push(blob.name);
      return names;
    });
  }
}

async function streamToString(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
