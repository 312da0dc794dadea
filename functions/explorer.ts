import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rawRoute } from '../shared/api/route.js';
import { DomainError } from '../shared/errors.js';
import { problem } from '../shared/http.js';
import { EXPLORER_VIEWS } from '../shared/util/explorerLinks.js';

/**
 * The lineage explorer: a web application built by Vite from `functions/explorer/` into
 * `dist/explorer/` and served from here, so it needs no CDN and no other origin. The page is static
 * and holds no data; its calls to the lookup routes carry the caller's Entra session or function key,
 * so it is anonymous itself. Every view has its own URL (`/api/explorer/lineage?ref=…`), which chat
 * answers and reports link to.
 */
/** The built app: `dist/explorer` beside the tsc build's `dist/functions`, or `explorer/` inside the deploy package. */
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT =
  [resolve(HERE, 'explorer'), resolve(HERE, '..', 'explorer')].find((dir) => existsSync(resolve(dir, 'index.html'))) ??
  resolve(HERE, '..', 'explorer');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

/**
 * Scripts and styles from this origin only (no inline script, no eval, no other origin); data
 * from this origin's API only. Exports are made in the page, so images may be data: or blob: URLs.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};

/** Assets carry a content hash in their name (Vite), so they never change under one URL. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Asset {
  body: Buffer;
  /** Precompressed at build time (`.br`, `.gz` next to the file), when it pays. */
  br?: Buffer;
  gzip?: Buffer;
}

const cache = new Map<string, Promise<Asset | undefined>>();

async function load(file: string): Promise<Asset | undefined> {
  const read = (path: string) => readFile(path).catch(() => undefined);
  const body = await read(file);
  if (!body) return undefined;
  return { body, br: await read(`${file}.br`), gzip: await read(`${file}.gz`) };
}

function asset(file: string): Promise<Asset | undefined> {
  let found = cache.get(file);
  if (!found) {
    found = load(file);
    cache.set(file, found);
  }
  return found;
}

function notFound(detail: string): HttpResponseInit {
  const answer = problem(new DomainError('not-found', detail));
  return { ...answer, headers: { ...(answer.headers as Record<string, string>), ...SECURITY_HEADERS } };
}

/** `assets/…` files as built; every view path gets the page itself, which routes on the client. */
async function explorer(request: HttpRequest): Promise<HttpResponseInit> {
  const path = (request.params.path ?? '').replace(/^\/+|\/+$/g, '');
  const isView = path === '' || (EXPLORER_VIEWS as readonly string[]).includes(path);
  const file = isView ? resolve(ROOT, 'index.html') : resolve(ROOT, path);
  if (!isView && (!path.startsWith('assets/') || !file.startsWith(`${ROOT}${sep}assets${sep}`)))
    return notFound(`The explorer has no view or asset named ${path}. Views: ${EXPLORER_VIEWS.join(', ')}.`);
  const found = await asset(file);
  if (!found) return notFound(isView ? 'The explorer is not built: run "npm run build".' : `The explorer has no asset named ${path}.`);

  const accepted = request.headers.get('accept-encoding') ?? '';
  const [body, encoding] =
    found.br && /\bbr\b/.test(accepted) ? [found.br, 'br'] : found.gzip && /\bgzip\b/.test(accepted) ? [found.gzip, 'gzip'] : [found.body];
  return {
    status: 200,
    body,
    headers: {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      // The page must be revalidated so a new build's asset names reach the browser.
      'cache-control': isView ? 'no-cache' : IMMUTABLE,
      vary: 'accept-encoding',
      ...(encoding ? { 'content-encoding': encoding } : {}),
      ...SECURITY_HEADERS,
    },
  };
}

export const explorerRoute = rawRoute(
  {
    name: 'explorer',
    method: 'GET',
    route: 'explorer/{*path}',
    summary: 'The lineage explorer (web application)',
    description:
      'The page at `/api/explorer` opens on search; `/api/explorer/lineage`, `/endpoint`, `/diff`, `/impact` and `/compliance` open a view with the query parameters of the matching API route. Static HTML, scripts and styles only: the page calls the lookup routes with the caller’s session or function key.',
    tags: ['explorer'],
    authLevel: 'anonymous',
    responses: { 200: { description: 'The page or one of its assets', contentType: 'text/html' } },
    problems: ['not-found'],
  },
  explorer,
);
