import type { Container, PatchOperation, SqlQuerySpec } from '@azure/cosmos';
import { NotFoundStoreError, PreconditionFailedStoreError } from '../errors.js';
import { queryPages, type StoredDoc } from './reads.js';
import { metered } from './storeErrors.js';
import type { StoreMeter } from './storeMeter.js';
import type { Tombstone } from './tombstone.js';

/** The field holding a record's own time (ISO 8601 UTC, compared as a string). */
export type RecordTimeField = 'receivedAt' | 'instant';

const PAGE_SIZE = 200;

/**
 * A container's records as retention policies see them (raw events, prediction requests): found
 * by age or by the legal hold that marked them, marked and released in place, and replaced by a
 * tombstone when purged. Every write is guarded by the version read (ETag): a record that changed
 * or went meanwhile is left alone, and the next run sees it again.
 */
export class RetainedRecords {
  constructor(
    private readonly container: Container,
    private readonly meter: StoreMeter,
  ) {}

  /** Records whose time is before `cutoff`, neither tombstoned nor held, page by page; returns how many were read. */
  async eachExpired(timeField: RecordTimeField, cutoff: string, onPage: (docs: StoredDoc[]) => Promise<void>): Promise<number> {
    return this.each(
      {
        query: `SELECT * FROM c WHERE c.${timeField} < @cutoff AND NOT IS_DEFINED(c.tombstone) AND NOT IS_DEFINED(c.legalHold)`,
        parameters: [{ name: '@cutoff', value: cutoff }],
      },
      onPage,
    );
  }

  /** Records marked by legal hold `holdId`, page by page; returns how many were read. */
  async eachHeldBy(holdId: string, onPage: (docs: StoredDoc[]) => Promise<void>): Promise<number> {
    return this.each({ query: 'SELECT * FROM c WHERE c.legalHold = @hold', parameters: [{ name: '@hold', value: holdId }] }, onPage);
  }

  /** Marks the record as kept by `holdId`; it no longer expires (`ttl: -1`). False when it changed or went since read. */
  async markHeld(doc: StoredDoc, holdId: string): Promise<boolean> {
    return this.patch(doc, [
      { op: 'add', path: '/legalHold', value: holdId },
      { op: 'add', path: '/ttl', value: -1 },
    ]);
  }

  /** Lifts a hold's mark; `releasedAt` starts the record's grace period afresh. False when it changed or went since read. */
  async releaseHold(doc: StoredDoc, releasedAt: string): Promise<boolean> {
    return this.patch(doc, [
      { op: 'remove', path: '/legalHold' },
      { op: 'remove', path: '/ttl' },
      { op: 'set', path: '/holdReleasedAt', value: releasedAt },
    ]);
  }

  /** Replaces the record by its tombstone (same id and partition). False when it changed or went since read. */
  async replaceWithTombstone(doc: StoredDoc, tombstone: Tombstone): Promise<boolean> {
    return this.ifUnchanged(`purging ${doc.id}`, () =>
      this.container.item(doc.id, doc.pk).replace(tombstone, { accessCondition: { type: 'IfMatch', condition: doc._etag } }),
    );
  }

  private async each(query: SqlQuerySpec, onPage: (docs: StoredDoc[]) => Promise<void>): Promise<number> {
    let read = 0;
    for await (const docs of queryPages<StoredDoc>(this.container, this.meter, query, PAGE_SIZE)) {
      read += docs.length;
      await onPage(docs);
    }
    return read;
  }

  private patch(doc: StoredDoc, operations: PatchOperation[]): Promise<boolean> {
    return this.ifUnchanged(`marking ${doc.id}`, () =>
      this.container.item(doc.id, doc.pk).patch({ operations }, { accessCondition: { type: 'IfMatch', condition: doc._etag } }),
    );
  }

  private async ifUnchanged(what: string, write: () => Promise<{ requestCharge?: number }>): Promise<boolean> {
    try {
      await metered(this.meter, what, write);
      return true;
    } catch (error) {
      if (error instanceof PreconditionFailedStoreError || error instanceof NotFoundStoreError) return false;
      throw error;
    }
  }
}
