import type { TokenCredential } from '@azure/identity';
import { TransientStoreError } from '../errors.js';
import { armIdProblem } from '../graph/keys.js';
import { isLoopbackHttp } from '../util/loopback.js';

/**
 * A small client for the Azure ML management REST API: GETs and paged lists, with the ARM
 * manners the API expects. 429 waits for `Retry-After`; 5xx and timeouts back off; at most
 * `concurrency` requests are in flight; a versioned asset (immutable once created) is fetched once
 * per process; identical GETs in flight are shared.
 */
export interface ArmClientOptions {
  /** Base URL, e.g. https://management.azure.com or a loopback stand-in. */
  endpoint: string;
  apiVersion: string;
  /** Required unless the endpoint is plain-HTTP loopback (a local stand-in needs no token). */
  credential?: TokenCredential;
  timeoutMs?: number;
  maxAttempts?: number;
  concurrency?: number;
  /** Upper bound on one Retry-After wait; longer waits fail the attempt so the queue retries later. */
  maxRetryAfterMs?: number;
  baseDelayMs?: number;
}

export interface ArmResponse {
  status: number;
  body: unknown;
  url: string;
}

export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

const IMMUTABLE_CACHE_LIMIT = 5000;

export class ArmClient {
  /** Every HTTP request made, for cost figures. */
  requests = 0;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly inFlight = new Map<string, Promise<ArmResponse>>();
  private readonly immutable = new Map<string, ArmResponse>();
  private readonly options: Required<Omit<ArmClientOptions, 'credential'>> & { credential?: TokenCredential };

  constructor(options: ArmClientOptions) {
    const url = new URL(options.endpoint);
    const loopback = isLoopbackHttp(url);
    if (!loopback && url.protocol !== 'https:') throw new Error('AZUREML_MANAGEMENT_ENDPOINT must be https (plain http only on loopback)');
    if (!loopback && !options.credential) throw new Error('a credential is required for a non-loopback management endpoint');
    this.options = {
      timeoutMs: 15_000,
      maxAttempts: 5,
      concurrency: 4,
      maxRetryAfterMs: 60_000,
      baseDelayMs: 500,
      ...options,
      endpoint: options.endpoint.replace(/\/+$/, ''),
    };
  }

  /** The URL of a resource, each path segment encoded; an id that could steer the path is refused (400) before any request. */
  urlFor(armId: string, suffix = ''): string {
    const id = armId.startsWith('/') ? armId : `/${armId}`;
    const problem = armIdProblem(`${id}${suffix}`);
    if (problem) throw new UpstreamError(`${id}${suffix} is not a safe ARM id: ${problem}; refused before any request`, 400);
    const path = `${id}${suffix}`.split('/').map(encodeURIComponent).join('/');
    return `${this.options.endpoint}${path}?api-version=${encodeURIComponent(this.options.apiVersion)}`;
  }

  /** GET one resource: 200 with its body, or 404 (a deleted resource is an answer, not an error). */
  async get(armId: string): Promise<ArmResponse> {
    const url = this.urlFor(armId);
    const cached = this.immutable.get(url);
    if (cached) return cached;
    const response = await this.getUrl(url);
    if (response.status === 200 && /\/versions\/[^/]+$/i.test(armId)) {
      if (this.immutable.size >= IMMUTABLE_CACHE_LIMIT) this.immutable.delete(this.immutable.keys().next().value as string);
      this.immutable.set(url, response);
    }
    return response;
  }

  /**
   * GET an absolute URL of another Azure ML API (the workspace's MLflow tracking server) through
   * the same slots, retries and throttling as the management API, with a token for `scope`
   * (default: the management endpoint's audience). Identical GETs in flight are shared.
   */
  async getUrl(url: string, scope = this.managementScope()): Promise<ArmResponse> {
    const target = new URL(url);
    if (target.protocol !== 'https:' && !isLoopbackHttp(target))
      throw new Error(`${redact(url)}: only https (plain http only on loopback)`);
    let pending = this.inFlight.get(url);
    if (!pending) {
      pending = this.fetchWithRetry(url, isLoopbackHttp(target) ? undefined : scope).finally(() => this.inFlight.delete(url));
      this.inFlight.set(url, pending);
    }
    return pending;
  }

  private managementScope(): string {
    return `${new URL(this.options.endpoint).origin}/.default`;
  }

  /** Every item of a list operation, following `nextLink` verbatim until it is absent. */
  async *list(collectionArmId: string): AsyncGenerator<unknown> {
    for await (const page of this.pages(collectionArmId)) yield* page.items;
  }

  /**
   * The pages of a list operation; `from` resumes at a saved `nextLink`. Each page says where the
   * next one is, which is what a resumable import records.
   */
  async *pages(collectionArmId: string, from?: string): AsyncGenerator<{ url: string; items: unknown[]; nextLink?: string }> {
    let url: string | undefined = from ?? this.urlFor(collectionArmId);
    for (let page = 0; url && page < 100_000; page++) {
      const response = await this.fetchWithRetry(url, this.options.credential ? this.managementScope() : undefined);
      if (response.status === 404) return;
      const body = response.body as { value?: unknown[]; nextLink?: string | null };
      const nextLink = typeof body.nextLink === 'string' && body.nextLink.length > 0 ? body.nextLink : undefined;
      yield { url, items: body.value ?? [], nextLink };
      url = nextLink;
    }
  }

  private async fetchWithRetry(url: string, scope: string | undefined): Promise<ArmResponse> {
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      let waitMs = Math.min(30_000, this.options.baseDelayMs * 2 ** (attempt - 1));
      try {
        const response = await this.withSlot(() => this.fetchOnce(url, scope));
        if (response.status === 200 || response.status === 404) return response;
        lastProblem = `HTTP ${response.status}`;
        if (response.status === 429) {
          const retryAfter = Number(response.retryAfter ?? NaN);
          waitMs = Number.isFinite(retryAfter) ? retryAfter * 1000 : waitMs;
          if (waitMs > this.options.maxRetryAfterMs) throw new TransientStoreError(`${url}: throttled, Retry-After ${retryAfter}s`);
        } else if (response.status < 500 && response.status !== 408) {
          throw new UpstreamError(`${redact(url)}: HTTP ${response.status} ${describeError(response.body)}`, response.status);
        }
      } catch (error) {
        if (error instanceof UpstreamError || error instanceof TransientStoreError) throw error;
        lastProblem = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      if (attempt < this.options.maxAttempts) await sleep(waitMs / 2 + Math.random() * (waitMs / 2));
    }
    throw new TransientStoreError(`${redact(url)}: ${lastProblem} after ${this.options.maxAttempts} attempts`);
  }

  private async fetchOnce(url: string, scope: string | undefined): Promise<ArmResponse & { retryAfter?: string | null }> {
    this.requests++;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.credential && scope) {
      const token = await this.options.credential.getToken(scope);
      if (!token) throw new Error(`no token for ${scope}`);
      headers.authorization = `Bearer ${token.token}`;
    }
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(this.options.timeoutMs) });
    const text = await response.text();
    let body: unknown;
    try {
      body = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: the status alone decides what happens next.
    }
    return { status: response.status, body, url, retryAfter: response.headers.get('retry-after') };
  }

  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.options.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** ARM errors are `{error: {code, message}}`; MLflow's are `{error_code, message}`. */
function describeError(body: unknown): string {
  const b = body as { error?: { code?: unknown; message?: unknown }; error_code?: unknown; message?: unknown } | undefined;
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
  if (b?.error) return `${text(b.error.code)}: ${text(b.error.message)}`.slice(0, 300);
  return b?.error_code !== undefined ? `${text(b.error_code)}: ${text(b.message)}`.slice(0, 300) : '';
}

/** No query strings (skip tokens, signatures) in logs or errors. */
function redact(url: string): string {
  return url.split('?')[0] ?? url;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
