import type { z } from 'zod';
import type {
  asOfAnswerSchema,
  diffAnswerSchema,
  impactAnswerSchema,
  lineageAnswerSchema,
  nodeSchema,
  edgeSchema,
  problemSchema,
  searchAnswerSchema,
} from '../../../shared/api/schemas.js';

/**
 * Calls to the app's own API routes, same origin. With App Service authentication in front, the
 * browser's session cookie goes with every call and no key is needed. With function keys only, a
 * 401 asks the person for a key once; it is kept in sessionStorage (this tab only, gone when the tab
 * closes) and sent as `x-functions-key`, never in a URL.
 */
export type Node = z.infer<typeof nodeSchema>;
export type Edge = z.infer<typeof edgeSchema>;
export type LineageAnswer = z.infer<typeof lineageAnswerSchema>;
export type AsOfAnswer = z.infer<typeof asOfAnswerSchema>;
export type ImpactAnswer = z.infer<typeof impactAnswerSchema>;
export type DiffAnswer = z.infer<typeof diffAnswerSchema>;
export type SearchAnswer = z.infer<typeof searchAnswerSchema>;
export type Problem = z.infer<typeof problemSchema>;

export type Params = Record<string, string | number | undefined | null>;

/** `/api/` as this page sees it: the explorer lives at `<prefix>/api/explorer/…`, whatever the prefix. */
export const API_BASE = location.pathname.replace(/\/explorer(?:\/.*)?$/, '/');

const KEY_ITEM = 'aml-lineage.function-key';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problem?: Problem,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function apiUrl(route: string, params: Params = {}): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') query.set(k, String(v));
  const qs = query.toString();
  return `${API_BASE}${route}${qs ? `?${qs}` : ''}`;
}

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_ITEM);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY_ITEM);
  keyListeners.forEach((l) => l());
}

function rememberKey(key: string): void {
  sessionStorage.setItem(KEY_ITEM, key);
  keyListeners.forEach((l) => l());
}

const keyListeners = new Set<() => void>();
export function onKeyChange(listener: () => void): () => void {
  keyListeners.add(listener);
  return () => keyListeners.delete(listener);
}

/** Shows the key dialog; resolves with the key entered, or null when the person cancels. */
export type KeyPrompt = (rejected: boolean) => Promise<string | null>;
let prompt: KeyPrompt | undefined;
let pending: Promise<string | null> | undefined;

export function setKeyPrompt(p: KeyPrompt): void {
  prompt = p;
}

/** One dialog for all calls that hit a 401 at the same time. */
function askForKey(rejected: boolean): Promise<string | null> {
  if (!prompt) return Promise.resolve(null);
  pending ??= prompt(rejected).finally(() => (pending = undefined));
  return pending;
}

async function problemOf(res: Response): Promise<Problem | undefined> {
  if (!/json/.test(res.headers.get('content-type') ?? '')) return undefined;
  try {
    return (await res.json()) as Problem;
  } catch {
    return undefined;
  }
}

function message(status: number, problem: Problem | undefined): string {
  if (problem) return `${problem.title}: ${problem.detail}`;
  if (status === 401) return 'Not signed in: this needs a function key or an Entra sign-in.';
  return `The API answered HTTP ${status}.`;
}

export async function getJson<T>(route: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  for (;;) {
    const key = storedKey();
    const res = await fetch(apiUrl(route, params), {
      headers: { accept: 'application/json', ...(key ? { 'x-functions-key': key } : {}) },
      credentials: 'same-origin',
      signal,
    });
    if (res.status === 401) {
      if (key) forgetKey();
      const entered = await askForKey(key !== null);
      if (entered) {
        rememberKey(entered);
        continue;
      }
    }
    if (!res.ok) {
      const problem = await problemOf(res);
      throw new ApiError(res.status, message(res.status, problem), problem);
    }
    return (await res.json()) as T;
  }
}

/** The last path segment of a workspace ARM id: what people call it. */
export function workspaceName(workspace: string | null | undefined): string {
  return workspace?.split('/').pop() ?? '';
}

/** `…/models/NAME/versions/V` (a model version's key) → NAME:V. */
export function modelLabel(key: string): string {
  const m = /\/models\/([^/]+)\/versions\/([^/]+)$/i.exec(key);
  return m ? `${m[1]}:${m[2]}` : key;
}
