import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { canonicalJson } from '../../shared/util/canonicalJson.js';
import { FunctionsCore, type RegisteredFunction, type RpcTypedData } from './functionsCore.js';
import { compileRoute, type CompiledRoute } from './routes.js';
import { parseNcrontab } from './ncrontab.js';
import { eventHubInvocation, startEventHubTriggers } from './eventHubTrigger.js';
import { bindingText, resolveSetting } from './bindingOptions.js';

/**
 * A local stand-in for the Azure Functions host (Core Tools cannot be installed here). It loads
 * the app through the same `app.*` registrations Azure uses and exposes the host's local
 * surface: HTTP functions under /api, the Event Grid webhook, the admin invoke endpoint and
 * timers. It does not start the stores; see main.ts.
 */
export interface HostOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** When `port` is taken, listen on a free one instead of failing. */
  anyPortIfTaken?: boolean;
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

/**
 * Loads the app as the Functions worker does: `@azure/functions-core` is provided, the entry
 * module is imported, and every `app.*` registration arrives with its binding metadata. The
 * settings contract test reads the registrations the same way.
 */
export async function loadFunctionApp(
  entry: string = DEFAULT_ENTRY,
  log: (line: string) => void = (line) => console.log(line),
): Promise<{ core: FunctionsCore; functions: RegisteredFunction[] }> {
  const core = new FunctionsCore((level, category, message, fn) => {
    if (category === 'system' && level === 'debug') return;
    log(`[${new Date().toISOString()}] ${fn ? `${fn}: ` : ''}${level === 'information' ? '' : `${level}: `}${message}`);
  });
  core.install();
  await import(pathToFileURL(entry).href);
  const functions = [...core.functions.values()];
  if (functions.length === 0) throw new Error(`${entry} registered no functions`);
  return { core, functions };
}

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { core, functions } = await loadFunctionApp(options.entry ?? DEFAULT_ENTRY, log);

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
    if (admin) {
      // The Functions host requires the master key on /admin; so does this one once keys are on.
      if (!keyAllows('admin', url, req))
        return send(res, 401, { title: 'Unauthorized', detail: 'the admin endpoint needs the admin key' }, 'application/problem+json');
      return adminInvoke(req, res, decodeURIComponent(admin[1] as string), body);
    }
    if (url.pathname.toLowerCase().startsWith('/api/')) return httpFunction(req, res, url, body);
    send(res, 404, { title: 'Not found', detail: `${url.pathname} is not served by this host` }, 'application/problem+json');
  }

  /**
   * Function keys, as the Functions host checks them (`code` query parameter or `x-functions-key`
   * header): off by default like `func start`, on when LOCAL_FUNCTION_KEY / LOCAL_ADMIN_KEY are set.
   * An admin key opens function-level routes too.
   */
  function keyAllows(level: string, url: URL, req: IncomingMessage): boolean {
    const functionKey = process.env.LOCAL_FUNCTION_KEY;
    const adminKey = process.env.LOCAL_ADMIN_KEY;
    if (level === 'anonymous' || (!functionKey && !adminKey)) return true;
    const given = url.searchParams.get('code') ?? (req.headers['x-functions-key'] as string | undefined);
    if (!given) return false;
    if (adminKey && given === adminKey) return true;
    return level === 'function' && functionKey !== undefined && given === functionKey;
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
      if (!keyAllows(bindingText(fn.trigger.authLevel, 'function').toLowerCase(), url, req)) {
        res.statusCode = 401; // the Functions host answers an empty 401
        return void res.end();
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
    if (!name || !fn)
      return send(
        res,
        404,
        { title: 'Not found', detail: `no function named ${name ?? '(functionName missing)'}` },
        'application/problem+json',
      );
    if (fn.trigger.type.toLowerCase() !== 'eventgridtrigger')
      return send(res, 400, { title: `${name} is not an Event Grid trigger` }, 'application/problem+json');

    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return send(res, 400, { title: 'The body is not JSON' }, 'application/problem+json');
    }
    const events: unknown[] = Array.isArray(payload) ? payload : [payload];
    const kind = String(req.headers['aeg-event-type'] ?? 'Notification');
    if (kind.toLowerCase() === 'subscriptionvalidation') {
      const validation = events.find(
        (e) => (e as { eventType?: unknown })?.eventType === 'Microsoft.EventGrid.SubscriptionValidationEvent',
      ) as { data?: { validationCode?: unknown } } | undefined;
      const code = validation?.data?.validationCode;
      if (typeof code !== 'string')
        return send(res, 400, { title: 'No validation code in the subscription validation event' }, 'application/problem+json');
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
          await core.invoke(name, [{ name: fn.trigger.name, data: { json: jsonText(event) } }]);
        } catch (error) {
          failed++;
          log(`[${new Date().toISOString()}] ${name}: invocation failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    });
    await Promise.all(lanes);
    if (failed > 0)
      return send(
        res,
        500,
        { title: 'Event delivery failed', detail: `${failed} of ${events.length} events failed; redeliver` },
        'application/problem+json',
      );
    res.statusCode = 202;
    res.end();
  }

  /** Core Tools' admin endpoint for non-HTTP functions: POST /admin/functions/NAME {"input": ...}. */
  async function adminInvoke(req: IncomingMessage, res: ServerResponse, name: string, body: Buffer): Promise<void> {
    if (req.method !== 'POST') return send(res, 405, { title: 'Method not allowed' }, 'application/problem+json');
    const fn = core.functions.get(name);
    if (!fn) return send(res, 404, { title: 'Not found', detail: `no function named ${name}` }, 'application/problem+json');
    if (fn.trigger.type.toLowerCase() === 'httptrigger')
      return send(res, 400, { title: `${name} is an HTTP function; call its route` }, 'application/problem+json');
    let request: { input?: unknown; triggerMetadata?: Record<string, unknown> };
    try {
      request = body.length > 0 ? (JSON.parse(body.toString('utf8')) as typeof request) : {};
    } catch {
      return send(res, 400, { title: 'The body is not JSON' }, 'application/problem+json');
    }
    const input = request.input;
    let data: RpcTypedData = typeof input === 'string' ? { string: input } : { json: jsonText(input ?? null) };
    let synthesized: Record<string, unknown> = {};
    if (fn.trigger.type.toLowerCase() === 'eventhubtrigger') ({ data, metadata: synthesized } = eventHubDelivery(fn, input));
    // A timer run by hand gets the TimerInfo the host always builds, whatever the body says.
    if (fn.trigger.type.toLowerCase() === 'timertrigger' && input === undefined) data = timerInfo(new Date(), undefined, undefined);
    const metadata = Object.fromEntries(
      Object.entries({ ...synthesized, ...(request.triggerMetadata ?? {}) }).map(([k, v]) => [k, { json: jsonText(v) }]),
    );
    try {
      await core.invoke(name, [{ name: fn.trigger.name, data }], metadata);
    } catch (error) {
      log(`[${new Date().toISOString()}] ${name}: invocation failed: ${error instanceof Error ? error.message : String(error)}`);
      return send(
        res,
        500,
        { title: 'Invocation failed', detail: error instanceof Error ? error.message : String(error) },
        'application/problem+json',
      );
    }
    res.statusCode = 202;
    res.end();
  }

  /** An Event Hubs delivery of one message, numbered per function, on partition 0. */
  const sequence = new Map<string, number>();
  function eventHubDelivery(fn: RegisteredFunction, input: unknown): { data: RpcTypedData; metadata: Record<string, unknown> } {
    const n = (sequence.get(fn.metadata.name) ?? 0) + 1;
    sequence.set(fn.metadata.name, n);
    const body = typeof input === 'string' ? input : jsonText(input ?? null);
    const event = { body, sequenceNumber: n, offset: String(n * 1024), enqueuedTimeUtc: new Date() };
    const partition = {
      fullyQualifiedNamespace: 'localhost',
      eventHubName: String(resolveSetting(fn.trigger.eventHubName ?? '')),
      consumerGroup: String(resolveSetting(fn.trigger.consumerGroup ?? '$Default')),
      partitionId: '0',
    };
    return eventHubInvocation(fn, [event], partition);
  }

  const timers = startTimers(core, functions, log);
  const queues = startQueuePollers(core, functions, log);
  const eventHubs = await startEventHubTriggers(core, functions, log);

  const listen = (port: number) =>
    new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, options.bind ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolveListen();
      });
    });
  await listen(options.port).catch((error: unknown) => {
    if (!options.anyPortIfTaken || (error as { code?: string }).code !== 'EADDRINUSE') throw error;
    log(`[host] port ${options.port} is in use; listening on a free one`);
    return listen(0);
  });
  const port = (server.address() as AddressInfo).port;
  await core.runAppHooks('appStart', resolve(here, '..', '..'));

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    functions,
    stop: async () => {
      timers.stop();
      await queues.stop();
      await eventHubs.stop();
      await core.runAppHooks('appTerminate', resolve(here, '..', '..'));
      await closeServer(server);
    },
  };
}

/** The TimerInfo the Functions host passes a timer trigger (the library camel-cases it). */
function timerInfo(due: Date, last: Date | undefined, next: Date | undefined): RpcTypedData {
  const info = {
    Schedule: { AdjustForDST: false },
    ScheduleStatus: { Last: (last ?? due).toISOString(), Next: (next ?? due).toISOString(), LastUpdated: due.toISOString() },
    IsPastDue: Date.now() - due.getTime() > 1000,
  };
  return { json: JSON.stringify(info) };
}

function startTimers(core: FunctionsCore, functions: RegisteredFunction[], log: (line: string) => void): { stop(): void } {
  const handles = new Set<NodeJS.Timeout>();
  let stopped = false;
  for (const fn of functions.filter((f) => f.trigger.type.toLowerCase() === 'timertrigger')) {
    const schedule = parseNcrontab(String(resolveSetting(fn.trigger.schedule)));
    let last: Date | undefined;
    const fire = async (due: Date) => {
      const data = timerInfo(due, last, schedule.next(new Date()));
      last = due;
      try {
        await core.invoke(fn.metadata.name, [{ name: fn.trigger.name, data }]);
      } catch (error) {
        log(
          `[${new Date().toISOString()}] ${fn.metadata.name}: invocation failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    };
    const arm = () => {
      if (stopped) return;
      const due = schedule.next(new Date());
      const handle = setTimeout(
        () => {
          handles.delete(handle);
          void fire(due).finally(arm);
        },
        Math.max(0, due.getTime() - Date.now()),
      );
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

/**
 * Storage queue triggers, as the Functions host runs them: poll, invoke with the decoded message
 * and its metadata (dequeue count, id, times), delete on success; on failure make the message
 * visible again after a short backoff, and after `maxDequeueCount` deliveries move it to the
 * `<queue>-poison` queue.
 */
const MAX_DEQUEUE_COUNT = 5; // host.json extensions.queues.maxDequeueCount default
const IDLE_POLL_MS = 300;

function startQueuePollers(core: FunctionsCore, functions: RegisteredFunction[], log: (line: string) => void): { stop(): Promise<void> } {
  let stopped = false;
  const loops: Array<Promise<void>> = [];
  for (const fn of functions.filter((f) => f.trigger.type.toLowerCase() === 'queuetrigger')) {
    const queueName = String(resolveSetting(fn.trigger.queueName));
    const connectionSetting = bindingText(fn.trigger.connection, 'AzureWebJobsStorage');
    const connection = process.env[connectionSetting];
    if (!connection) {
      log(`[host] ${fn.metadata.name}: app setting ${connectionSetting} is not set; queue trigger disabled`);
      continue;
    }
    loops.push(
      (async () => {
        const { QueueClient } = await import('@azure/storage-queue');
        const queue = new QueueClient(connection, queueName);
        const poison = new QueueClient(connection, `${queueName}-poison`);
        await queue.createIfNotExists();
        while (!stopped) {
          let received;
          try {
            received = await queue.receiveMessages({ numberOfMessages: 8, visibilityTimeout: 60 });
          } catch (error) {
            log(`[host] ${fn.metadata.name}: polling ${queueName} failed: ${error instanceof Error ? error.message : String(error)}`);
            await new Promise((r) => setTimeout(r, 2000));
            continue;
          }
          if (received.receivedMessageItems.length === 0) {
            await new Promise((r) => setTimeout(r, IDLE_POLL_MS));
            continue;
          }
          await Promise.all(
            received.receivedMessageItems.map(async (m) => {
              const text = Buffer.from(m.messageText, 'base64').toString('utf8');
              const metadata = {
                DequeueCount: m.dequeueCount,
                Id: m.messageId,
                InsertionTime: m.insertedOn.toISOString(),
                ExpirationTime: m.expiresOn.toISOString(),
                NextVisibleTime: m.nextVisibleOn.toISOString(),
                PopReceipt: m.popReceipt,
              };
              try {
                await core.invoke(
                  fn.metadata.name,
                  [{ name: fn.trigger.name, data: { string: text } }],
                  Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, { json: JSON.stringify(v) }])),
                );
                await queue.deleteMessage(m.messageId, m.popReceipt);
              } catch (error) {
                log(
                  `[${new Date().toISOString()}] ${fn.metadata.name}: invocation failed (delivery ${m.dequeueCount}): ${error instanceof Error ? error.message : String(error)}`,
                );
                if (m.dequeueCount >= MAX_DEQUEUE_COUNT) {
                  await poison.createIfNotExists();
                  await poison.sendMessage(m.messageText);
                  await queue.deleteMessage(m.messageId, m.popReceipt);
                } else {
                  await queue.updateMessage(m.messageId, m.popReceipt, undefined, Math.min(10, m.dequeueCount));
                }
              }
            }),
          );
        }
      })(),
    );
  }
  return {
    stop: async () => {
      stopped = true;
      await Promise.allSettled(loops);
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

/**
 * A parsed request body written back as JSON for the worker. JSON.parse takes any depth but
 * JSON.stringify recurses and overflows a few thousand levels down; the Functions host passes such
 * events on, so this host does too (canonicalJson is iterative; only key order differs).
 */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (error instanceof RangeError) return canonicalJson(value);
    throw error;
  }
}

function writeHttpResult(res: ServerResponse, value: RpcTypedData | undefined): void {
  const http = value?.http as
    { statusCode?: string; headers?: Record<string, string>; body?: RpcTypedData; cookies?: unknown[] } | undefined;
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
