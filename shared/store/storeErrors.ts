import {
  ConflictStoreError,
  NotFoundStoreError,
  PreconditionFailedStoreError,
  RefusedStoreError,
  StoreError,
  TooLargeStoreError,
  TransientStoreError,
} from '../errors.js';
import type { StoreMeter } from './storeMeter.js';

/**
 * The one place that reads Azure SDK errors. The Cosmos SDK rejects with an `ErrorResponse` whose
 * `code` is the HTTP status (sometimes a plain object), the Storage SDKs with a `RestError` whose
 * `statusCode` is; a network failure carries a Node error code (`ECONNRESET`), possibly as the
 * `cause` of a wrapper; a timeout or abort is named so. Everything above `store/` sees the
 * domain's store errors instead (`errors.ts`).
 */

const FAILURES: Record<number, [typeof StoreError, string]> = {
  400: [RefusedStoreError, 'refused as malformed'],
  404: [NotFoundStoreError, 'not found'],
  409: [ConflictStoreError, 'already exists'],
  412: [PreconditionFailedStoreError, 'changed since it was read'],
  413: [TooLargeStoreError, 'too large for the store'],
};

/** Statuses a retry may get past: timeout, throttling (429, Cosmos's 449 "retry with"), server errors. */
const TRANSIENT_STATUS = new Set([408, 429, 449, 500, 502, 503, 504]);
const TRANSIENT_NET = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);

function statusOf(error: object): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.code === 'number') return e.code;
  return undefined;
}

function isTransientSdkError(error: unknown): boolean {
  if (error instanceof TransientStoreError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const status = statusOf(error);
  if (status !== undefined) return TRANSIENT_STATUS.has(status);
  const e = error as { code?: unknown; name?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && TRANSIENT_NET.has(e.code)) return true;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  return e.cause !== undefined && e.cause !== error ? isTransientSdkError(e.cause) : false;
}

/**
 * `error` as the domain's store error (the SDK error kept as its `cause`); errors that are already
 * the domain's, and failures with no store meaning (401, 403, a bug), are returned unchanged.
 */
export function storeError(error: unknown, what: string): unknown {
  if (error instanceof StoreError || typeof error !== 'object' || error === null) return error;
  const status = statusOf(error);
  const known = status === undefined ? undefined : FAILURES[status];
  if (known) return new known[0](`${what}: ${known[1]}`, error);
  if (isTransientSdkError(error)) return new TransientStoreError(`${what}: the store is unavailable or throttling`, error);
  return error;
}

/** An SDK call whose failure comes back as a domain store error. */
export async function storeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw storeError(error, what);
  }
}

/** One Cosmos round trip, metered whether it succeeds or fails (a 409 or 412 costs a request too). */
export async function metered<T extends object>(meter: StoreMeter, what: string, call: () => Promise<T>): Promise<T> {
  try {
    const response = await call();
    meter.record(response);
    return response;
  } catch (error) {
    meter.recordError(error);
    throw storeError(error, what);
  }
}

/** `undefined` when the store says the item is not there; any other failure is rethrown. */
export async function unlessNotFound<T>(operation: Promise<T>): Promise<T | undefined> {
  try {
    return await operation;
  } catch (error) {
    if (error instanceof NotFoundStoreError) return undefined;
    throw error;
  }
}
