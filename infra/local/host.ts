import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FunctionsCore, type RegisteredFunction, type RpcTypedData } from './functionsCore.js';
import { compileRoute, type CompiledRoute } from './routes.js';
import { parseNcrontab } from './ncrontab.js';

/**
 * A local stand-in for the Azure Functions host (Core Tools cannot be installed here). It loads
 * the app through the same `app.*` registrations Azure uses and exposes the host's local
 * surface: HTTP functions under /api, the Event Grid webhook, the admin invoke endpoint and
 * timers. It does not start the stores; see main.ts.
 */
export interface HostOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Absolute path of the app entry module (the compiled functions/index.js by default). */
  entry?: string;
  bind?: string;
  log?: (line: string) => void;
}

export interface RunningHost {
  url: string;
  port: number;
  functions: RegisteredFunction[];
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 100 * 1024 * 1024; // the Functions host's request limit
const EVENT_GRID_CONCURRENCY = 4;

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_ENTRY = resolve(here, '..', '..', 'functions', 'index.js');

/** `%NAME%` in binding options names an app setting, as in Azure. */
export function resolveSetting(value: unknown, env: Record<string, string | undefined> = process.env): unknown {
  if (typeof value !== 'string') return value;
  const m = /^%([^%]+)%$/.exec(value);
  if (!m) return value;
  const resolved = env[m[1] as string];
  if (resolved === undefined) throw new Error(`app setting ${m[1]} is not set (referenced as ${value})`);
  return resolved;
}

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const log = options.log ?? ((line: string) => console.log(line));
  const core = new FunctionsCore((level, category, message, fn) => {
    if (category === 'system' && level === 'debug') return;
    log(`[${new Date().toISOString()}] ${fn ? `${fn}: ` : ''}${level === 'information' ? '' : `${level}: `}${message}`);
  });
  core.install();
  const entry = options.entry ?? DEFAULT_ENTRY;
  await import(pathToFileURL(entry).href);
  const functions = [...core.functions.values()];
  if (functions.length === 0) throw new Error(`${entry} registered no functions`);

  const httpRoutes = functions
    .filter((f) => f.trigger.type.toLowerCase() === 'httptrigger')
    .map((f) => ({
      fn: f,
      route: compileRoute(String(resolveSetting(f.trigger.route ?? f.metadata.name))),
      methods: ((f.trigger.methods as string[] | undefined) ?? ['GET', 'POST']).map((m) => m.toUpperCase()),
    }));

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`[host] error: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) send(res, 500, { title: 'Internal error' }, 'application/problem+json');
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const body = await readBody(req);
    if (url.pathname.toLowerCase() === '/runtime/webhooks/eventgrid') return eventGridWebhook(req, res, url, body);
    const admin = /^\/admin\/functions\/([^/]+)\/?$/i.exec(url.pathname);
    if (admin) return adminInvoke(req, res, decodeURIComponent(admin[1] as string), body);
    if (url.pathname.toLowerCase().startsWith('/api/')) return httpFunction(req, res, url, body);
    send(res, 404, { title: 'Not found', detail: `${url.pathname} is not served by this host` }, 'application/problem+json');
  }

  async function httpFunction(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<void> {
    const path = url.pathname.slice('/api'.length);
    const method = (req.method ?? 'GET').toUpperCase();
    let allowed: string[] | undefined;
    for (const { fn, route, methods } of httpRoutes) {
      const params = route.match(path);
      if (!params) continue;
      if (!methods.includes(method)) {
        allowed = methods;
        continue;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const http = {
        method,
        url: url.href,
        headers,
        query: Object.fromEntries(url.searchParams.entries()),
        params,
        body: body.length > 0 ? { bytes: body } : undefined,
      };
      const response = await core.invoke(fn.metadata.name, [{ name: fn.trigger.name, data: { http } }]);
      return writeHttpResult(res, response.returnValue ?? undefined);
    }
    if (allowed) {
      res.setHeader('allow', allowed.join(', '));
      return send(res, 405, { title: 'Method not allowed' }, 'application/problem+json');
    }
    send(res, 404, { title: 'Not found', detail: `no function serves ${url.pathname}` }, 'application/problem+json');
  }

  /**
   * The Event Grid extension's webhook: subscription validation (Event Grid schema) and the
   * CloudEvents OPTIONS handshake, then one invocation per event in the delivered array. Any
   * failed invocation fails the delivery (500) so Event Grid retries it, as the extension does.
   */
  async function eventGridWebhook(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<void> {
    if (req.method === 'OPTIONS') {
      const origin = req.headers['webhook-request-origin'];
      if (typeof origin === 'string') {
        res.setHeader('webhook-allowed-origin', origin);
        res.setHeader('webhook-allowed-rate', '*');
      }
      res.statusCode = 200;
      return void res.end();
    }
    if (req.method !== 'POST') return send(res, 405, { title: 'Method not allowed' }, 'application/problem+json');
    const name = url.searchParams.get('functionName');
    const fn = name ? core.functions.get(name) : undefined;
    if (!name || !fn) return send(res, 404, { title: 'Not found', detail: `no function named ${name ?? '(functionName missing)'}` }, 'application/problem+json');
    if (fn.trigger.type.toLowerCase() !== 'eventgridtrigger') return send(res, 400, { title: `${name} is not an Event Grid trigger` }, 'application/problem+json');

    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return send(res, 400, { title: 'The body is not JSON' }, 'application/problem+json');
    }
    const events = Array.isArray(payload) ? payload : [payload];
    const kind = String(req.headers['aeg-event-type'] ?? 'Notification');
    if (kind.toLowerCase() === 'subscriptionvalidation') {
      const validation = events.find((e) => (e as { eventType?: unknown })?.eventType === 'Microsoft.EventGrid.SubscriptionValidationEvent') as
        | { data?: { validationCode?: unknown } }
        | undefined;
      const code = validation?.data?.validationCode;
      if (typeof code !== 'string') return send(res, 400, { title: 'No validation code in the subscription validation event' }, 'application/problem+json');
      return send(res, 200, { validationResponse: code });
    }
    if (kind.toLowerCase() === 'subscriptiondeletion') {
      res.statusCode = 202;
      return void res.end();
    }
    let next = 0;
    let failed = 0;
    const lanes = Array.from({ length: Math.min(EVENT_GRID_CONCURRENCY, events.length) }, async () => {
      while (next < events.length) {
        const event = events[next++];
        try {
          await core.invoke(name, [{ name: fn.trigger.name, data: { json: JSON.stringify(event) } }]);
        } catch (error) {
          failed++;
          log(`[${new Date().toISOString()}] ${name}: invocation failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    });
    await Promise.all(lanes);
    if (failed > 0) return send(res, 500, { title: 'Event delivery failed', detail: `${failed} of ${events.length} events failed; redeliver` }, 'application/problem+json');
    res.statusCode = 202;
    res.end();
  }

  /** Core Tools' admin endpoint for non-HTTP functions: POST /admin/functions/NAME {"input": ...}. */
  async function adminInvoke(req: IncomingMessage, res: ServerResponse, name: string, body: Buffer): Promise<void> {
    if (req.method !== 'POST') return send(res, 405, { title: 'Method not allowed' }, 'application/problem+json');
    const fn = core.functions.get(name);
    if (!fn) return send(res, 404, { title: 'Not found', detail: `no function named ${name}` }, 'application/problem+json');
    if (fn.trigger.type.toLowerCase() === 'httptrigger') return send(res, 400, { title: `${name} is an HTTP function; call its route` }, 'application/problem+json');
    let request: { input?: unknown; triggerMetadata?: Record<string, unknown> };
    try {
      request = body.length > 0 ? (JSON.parse(body.toString('utf8')) as typeof request) : {};
    } catch {
      return send(res, 400, { title: 'The body is not JSON' }, 'application/problem+json');
    }
    const input = request.input;
    const data: RpcTypedData = typeof input === 'string' ? { string: input } : { json: JSON.stringify(input ?? null) };
    const metadata = Object.fromEntries(Object.entries(request.triggerMetadata ?? {}).map(([k, v]) => [k, { json: JSON.stringify(v) }]));
    try {
      await core.invoke(name, [{ name: fn.trigger.name, data }], metadata);
    } catch (error) {
      log(`[${new Date().toISOString()}] ${name}: invocation failed: ${error instanceof Error ? error.message : String(error)}`);
      return send(res, 500, { title: 'Invocation failed', detail: error instanceof Error ? error.message : String(error) }, 'application/problem+json');
    }
    res.statusCode = 202;
    res.end();
  }

  const timers = startTimers(core, functions, log);

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.bind ?? '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  await core.runAppHooks('appStart', resolve(here, '..', '..'));

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    functions,
    stop: async () => {
      timers.stop();
      await core.runAppHooks('appTerminate', resolve(here, '..', '..'));
      await closeServer(server);
    },
  };
}

function startTimers(core: FunctionsCore, functions: RegisteredFunction[], log: (line: string) => void): { stop(): void } {
  const handles = new Set<NodeJS.Timeout>();
  let stopped = false;
  for (const fn of functions.filter((f) => f.trigger.type.toLowerCase() === 'timertrigger')) {
    const schedule = parseNcrontab(String(resolveSetting(fn.trigger.schedule)));
    let last: Date | undefined;
    const fire = async (due: Date) => {
      const next = schedule.next(new Date());
      const info = { Schedule: { AdjustForDST: false }, ScheduleStatus: { Last: (last ?? due).toISOString(), Next: next.toISOString(), LastUpdated: due.toISOString() }, IsPastDue: Date.now() - due.getTime() > 1000 };
      last = due;
      try {
        await core.invoke(fn.metadata.name, [{ name: fn.trigger.name, data: { json: JSON.stringify(info) } }]);
      } catch (error) {
        log(`[${new Date().toISOString()}] ${fn.metadata.name}: invocation failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    const arm = () => {
      if (stopped) return;
      const due = schedule.next(new Date());
      const handle = setTimeout(() => {
        handles.delete(handle);
        void fire(due).finally(arm);
      }, Math.max(0, due.getTime() - Date.now()));
      handles.add(handle);
    };
    if (fn.trigger.runOnStartup === true) void fire(new Date()).finally(arm);
    else arm();
  }
  return {
    stop: () => {
      stopped = true;
      handles.forEach((h) => clearTimeout(h));
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function writeHttpResult(res: ServerResponse, value: RpcTypedData | undefined): void {
  const http = value?.http as { statusCode?: string; headers?: Record<string, string>; body?: RpcTypedData; cookies?: unknown[] } | undefined;
  if (!http) {
    res.statusCode = 204;
    return void res.end();
  }
  res.statusCode = Number(http.statusCode ?? 200);
  for (const [k, v] of Object.entries(http.headers ?? {})) res.setHeader(k, v);
  const b = http.body;
  if (b?.bytes) res.end(Buffer.from(b.bytes));
  else if (b?.string !== undefined) res.end(b.string);
  else res.end();
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  res.statusCode = status;
  res.setHeader('content-type', `${contentType}; charset=utf-8`);
  res.end(JSON.stringify(status >= 400 && typeof body === 'object' && body !== null ? { status, ...body } : body));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    server.closeAllConnections?.();
    server.close(() => resolveClose());
  });
}

export type { CompiledRoute };
