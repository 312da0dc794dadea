import type { ServerResponse } from 'node:http';
import type { ArmResource } from './arm.js';
import { type FaultStatus } from './faults.js';
import { send, sendError } from './http.js';
import type { SampleWorkspaceState } from './state.js';

/**
 * The Azure ML management GETs: any stored resource by its ARM id (matched case-insensitively,
 * like ARM), and paged lists of a parent's collections (`.../models`, `.../models/m/versions`,
 * `.../onlineEndpoints/e/deployments`, ...). Read-only: other methods answer 405.
 */
export interface ArmContext {
  state: SampleWorkspaceState;
  /** Base URL for absolute `nextLink`s. */
  baseUrl: string;
  pageSize: number;
  /** api-version written into `nextLink`; the request's own when unset (the spec example shows a different one). */
  nextLinkApiVersion: string | undefined;
  /** Value for `x-ms-ratelimit-remaining-subscription-reads`. */
  remainingReads(): number;
}

export function serveArm(ctx: ArmContext, method: string, url: URL, res: ServerResponse): void {
  const headers = { 'x-ms-ratelimit-remaining-subscription-reads': String(ctx.remainingReads()) };
  const apiVersion = url.searchParams.get('api-version');
  if (!apiVersion) {
    // ARM's own wording for a request without ?api-version=.
    return sendError(
      res,
      400,
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.',
      headers,
    );
  }
  if (method !== 'GET') {
    return sendError(res, 405, 'MethodNotAllowed', `The stand-in serves GET only; ${method} ${url.pathname} is not supported.`, headers);
  }
  const path = decodePath(url.pathname);
  if (path === undefined) {
    // Real ARM behaviour for `//` or bad escapes was not verified; a clear 400 beats a confusing 404.
    return sendError(
      res,
      400,
      'InvalidRequestUri',
      `The request path '${url.pathname}' has an empty segment or an invalid escape.`,
      headers,
    );
  }
  const resource = ctx.state.get(path);
  if (resource) return send(res, 200, resource, headers);
  const members = ctx.state.list(path);
  if (members) return sendPage(ctx, url, apiVersion, members, res, headers);
  return sendNotFound(res, path, headers);
}

/** Lower-level: also used when a fault forces a 404. */
export function sendNotFound(res: ServerResponse, path: string, headers: Record<string, string> = {}): void {
  const rg = /\/resourcegroups\/([^/]+)/i.exec(path)?.[1];
  const at = path.toLowerCase().indexOf('/providers/');
  const what = at >= 0 ? path.slice(at + '/providers/'.length) : path;
  const message = rg
    ? `The Resource '${what}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`
    : `The Resource '${what}' was not found.`;
  sendError(res, 404, 'ResourceNotFound', message, headers);
}

function decodePath(raw: string): string | undefined {
  const segments = raw.replace(/\/$/, '').split('/').slice(1);
  if (segments.length === 0 || segments.some((s) => s === '')) return undefined;
  try {
    return '/' + segments.map((s) => decodeURIComponent(s)).join('/');
  } catch {
    return undefined;
  }
}

/**
 * `{value, nextLink}`: `nextLink` is absolute, carries its own query ($skipToken plus the
 * request's other parameters) and is left out on the last page.
 */
function sendPage(
  ctx: ArmContext,
  url: URL,
  apiVersion: string,
  members: ArmResource[],
  res: ServerResponse,
  headers: Record<string, string>,
): void {
  const offset = decodeSkipToken(url.searchParams.get('$skipToken'));
  if (offset === undefined) return sendError(res, 400, 'InvalidSkipToken', 'The $skipToken is not one this server issued.', headers);
  const top = Number(url.searchParams.get('$top') ?? NaN);
  const size = Number.isInteger(top) && top > 0 ? top : ctx.pageSize;
  const value = members.slice(offset, offset + size);
  const body: { value: ArmResource[]; nextLink?: string } = { value };
  if (offset + size < members.length) {
    const query = [
      `api-version=${encodeURIComponent(ctx.nextLinkApiVersion ?? apiVersion)}`,
      `$skipToken=${encodeSkipToken(offset + size)}`,
    ];
    for (const [k, v] of url.searchParams) {
      if (k !== 'api-version' && k !== '$skipToken') query.push(`${encodeURIComponent(k).replace(/^%24/, '$')}=${encodeURIComponent(v)}`);
    }
    body.nextLink = `${ctx.baseUrl}${url.pathname}?${query.join('&')}`;
  }
  send(res, 200, body, headers);
}

/** Opaque to clients (they must follow nextLink verbatim), an offset underneath. */
function encodeSkipToken(offset: number): string {
  return Buffer.from(`standin:${offset}`).toString('base64url');
}

function decodeSkipToken(token: string | null): number | undefined {
  if (token === null) return 0;
  const m = /^standin:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : undefined;
}

const FAULT_ERRORS: Record<Exclude<FaultStatus, 404>, { code: string; message: (sub: string, retry?: number) => string }> = {
  429: {
    code: 'SubscriptionRequestsThrottled',
    message: (sub, retry) =>
      `Number of 'read' requests for subscription '${sub}' actor 'standin' exceeded. Please try again after '${retry ?? 'a few'}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`,
  },
  500: { code: 'InternalServerError', message: () => 'Encountered an internal server error. (injected by the Azure ML stand-in)' },
  503: {
    code: 'ServiceUnavailable',
    message: () => 'The service is temporarily unavailable. Please try again later. (injected by the Azure ML stand-in)',
  },
};

export function sendFault(
  res: ServerResponse,
  status: FaultStatus,
  retryAfterSeconds: number | undefined,
  url: URL,
  remainingReads: number,
): void {
  const headers: Record<string, string> = {
    'x-ms-ratelimit-remaining-subscription-reads': String(status === 429 ? 0 : remainingReads),
    ...(retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {}),
  };
  if (status === 404) return sendNotFound(res, decodePath(url.pathname) ?? url.pathname, headers);
  const sub = /\/subscriptions\/([^/]+)/i.exec(url.pathname)?.[1] ?? 'unknown';
  const { code, message } = FAULT_ERRORS[status];
  sendError(res, status, code, message(sub, retryAfterSeconds), headers);
}
