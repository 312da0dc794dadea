/**
 * The closed set of errors the domain raises, and their single HTTP shape: problem details
 * (RFC 9457). Messages are written for the caller; no stack traces or internal ids leave here.
 */
export const PROBLEM_CODES = {
  'invalid-request': { status: 400, title: 'The request is not valid' },
  'invalid-ref': { status: 400, title: 'The reference is not in an accepted form' },
  unauthorized: { status: 401, title: 'Not authenticated' },
  forbidden: { status: 403, title: 'Not allowed' },
  'not-found': { status: 404, title: 'Not found' },
  gone: { status: 410, title: 'Purged under a retention policy' },
  'gate-failed': { status: 422, title: 'The model version does not meet the traceability policy' },
  'payload-too-large': { status: 413, title: 'The request is too large' },
  'ambiguous-ref': { status: 409, title: 'The reference names more than one node' },
  'run-in-progress': { status: 409, title: 'A run of this check is already in progress' },
  'store-unavailable': { status: 503, title: 'The lineage store is unavailable' },
  'not-configured': { status: 503, title: 'This feature is not configured' },
  internal: { status: 500, title: 'Internal error' },
} as const;
export type ProblemCode = keyof typeof PROBLEM_CODES;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  [extension: string]: unknown;
}

export class DomainError extends Error {
  constructor(
    readonly code: ProblemCode,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/**
 * A store (Cosmos DB, Blob, Queue) refused or failed an operation. Adapters in `store/` turn SDK
 * errors into these (`store/storeErrors.ts`), so nothing above them reads SDK status codes.
 */
export class StoreError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A store failure that may pass (429, 503, timeouts, refused connections); retrying may help. */
export class TransientStoreError extends StoreError {}

/** The item is not there (404). */
export class NotFoundStoreError extends StoreError {}

/** An item with that id already exists (409). */
export class ConflictStoreError extends StoreError {}

/** The item changed since it was read: a write guarded by its version lost (412). */
export class PreconditionFailedStoreError extends StoreError {}

/** The item or request is larger than the store accepts (413). */
export class TooLargeStoreError extends StoreError {}

/** The store refused the request as malformed (400): the same request will be refused again. */
export class RefusedStoreError extends StoreError {}

/** Failures no retry or redelivery gets past: the item itself is what the store refuses. */
export function isPermanentStoreRefusal(error: unknown): error is TooLargeStoreError | RefusedStoreError {
  return error instanceof TooLargeStoreError || error instanceof RefusedStoreError;
}

/** A document read back from the store does not have the shape we wrote. */
export class CorruptDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptDocumentError';
  }
}

/** Anything thrown, as an Error: JavaScript lets code throw strings and plain objects. */
export function asError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}

export function toProblem(error: unknown): Problem {
  if (error instanceof DomainError) {
    const def = PROBLEM_CODES[error.code];
    return {
      type: `/problems/${error.code}`,
      title: def.title,
      status: def.status,
      detail: error.message,
      code: error.code,
      ...error.extensions,
    };
  }
  if (error instanceof TransientStoreError) {
    const def = PROBLEM_CODES['store-unavailable'];
    return {
      type: '/problems/store-unavailable',
      title: def.title,
      status: def.status,
      detail: 'Try again shortly.',
      code: 'store-unavailable',
    };
  }
  const def = PROBLEM_CODES.internal;
  return { type: '/problems/internal', title: def.title, status: def.status, detail: 'An unexpected error occurred.', code: 'internal' };
}
