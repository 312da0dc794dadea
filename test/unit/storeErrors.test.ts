import { ErrorResponse, TimeoutError } from '@azure/cosmos';
import { RestError } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import {
  ConflictStoreError,
  CorruptDocumentError,
  DomainError,
  NotFoundStoreError,
  PreconditionFailedStoreError,
  StoreError,
  RefusedStoreError,
  TooLargeStoreError,
  TransientStoreError,
  toProblem,
} from '../../shared/errors.js';
import { isTransient } from '../../shared/store/retry.js';
import { metered, storeError, unlessNotFound } from '../../shared/store/storeErrors.js';
import { StoreMeter } from '../../shared/store/storeMeter.js';

/** The SDKs' own error classes, built in-process with the statuses a server would answer (no server is started). */
function cosmosError(code: number): ErrorResponse {
  const error = new ErrorResponse(`cosmos ${code}`);
  error.code = code;
  error.headers = { 'x-ms-request-charge': 2.5 };
  return error;
}
const blobError = (statusCode: number) => new RestError(`blob ${statusCode}`, { statusCode });

describe('SDK errors mapped to store errors (one mapper for Cosmos and Blob)', () => {
  it.each([
    [400, RefusedStoreError],
    [404, NotFoundStoreError],
    [409, ConflictStoreError],
    [412, PreconditionFailedStoreError],
    [413, TooLargeStoreError],
    [429, TransientStoreError],
    [449, TransientStoreError],
    [503, TransientStoreError],
    [408, TransientStoreError],
  ])('status %i becomes %o from either SDK, keeping the SDK error as its cause', (status, type) => {
    for (const sdk of [cosmosError(status), blobError(status)]) {
      const mapped = storeError(sdk, 'reading x');
      expect(mapped).toBeInstanceOf(type);
      expect(mapped).toBeInstanceOf(StoreError);
      expect((mapped as StoreError).cause).toBe(sdk);
      expect((mapped as Error).message).toMatch(/^reading x: /);
    }
  });

  it('maps timeouts and dropped or refused connections (also as a cause) to TransientStoreError', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    for (const e of [new TimeoutError(), reset, new Error('fetch failed', { cause: reset }), new RestError('x', { code: 'ETIMEDOUT' })]) {
      expect(storeError(e, 'op')).toBeInstanceOf(TransientStoreError);
      expect(isTransient(e)).toBe(true);
    }
  });

  it('leaves failures with no store meaning, and errors already the domain’s, as they are', () => {
    for (const e of [blobError(403), new Error('boom'), new CorruptDocumentError('bad'), new DomainError('not-found', 'x')]) {
      expect(storeError(e, 'op')).toBe(e);
      expect(isTransient(e)).toBe(false);
    }
    const transient = new TransientStoreError('already mapped');
    expect(storeError(transient, 'op')).toBe(transient);
  });

  it('only transient store errors answer 503; the others stay internal (500)', () => {
    expect(toProblem(storeError(cosmosError(503), 'op'))).toMatchObject({ status: 503, code: 'store-unavailable' });
    for (const status of [404, 409, 412, 413]) expect(toProblem(storeError(cosmosError(status), 'op'))).toMatchObject({ status: 500 });
  });

  it('meters a failed round trip once, with its charge, and a missing item reads as undefined', async () => {
    const meter = new StoreMeter();
    await expect(unlessNotFound(metered(meter, 'reading x', () => Promise.reject(cosmosError(404))))).resolves.toBeUndefined();
    await expect(metered(meter, 'replacing x', () => Promise.reject(cosmosError(412)))).rejects.toBeInstanceOf(
      PreconditionFailedStoreError,
    );
    await expect(metered(meter, 'reading y', () => Promise.resolve({ requestCharge: 1 }))).resolves.toEqual({ requestCharge: 1 });
    expect(meter.snapshot()).toEqual({ storeRequests: 3, requestUnits: 6 });
  });
});
