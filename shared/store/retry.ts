import { TransientStoreError } from '../errors.js';

const TRANSIENT_STATUS = new Set([408, 429, 449, 500, 502, 503, 504]);
const TRANSIENT_NET = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; statusCode?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.code === 'number') return e.code;
  return undefined;
}

export function isTransient(error: unknown): boolean {
  if (error instanceof TransientStoreError) return true;
  const status = statusOf(error);
  if (status !== undefined) return TRANSIENT_STATUS.has(status);
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; name?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && TRANSIENT_NET.has(e.code)) return true;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  return e.cause !== undefined && e.cause !== error ? isTransient(e.cause) : false;
}

export interface RetryOptions {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 200, maxDelayMs: 3000 };

/**
 * Retries transient store failures with exponential backoff and jitter. When they persist the
 * error becomes a TransientStoreError, which fails the invocation so the platform redelivers.
 * (The Cosmos SDK already retries 429s itself before we see them.)
 */
export async function withRetry<T>(operation: () => Promise<T>, what: string, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransient(error)) throw error;
      lastError = error;
      if (attempt === options.attempts) break;
      const delay = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * (delay / 2)));
    }
  }
  throw new TransientStoreError(`${what} failed after ${options.attempts} attempts`, lastError);
}
