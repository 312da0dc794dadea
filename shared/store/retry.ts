import { TransientStoreError } from '../errors.js';
import { storeError } from './storeErrors.js';

/** Whether retrying may get past `error` (429, 449, 5xx, 408, timeouts, dropped or refused connections). */
export function isTransient(error: unknown): boolean {
  return storeError(error, 'retrying') instanceof TransientStoreError;
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
