import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MAX_CHAT_BODY } from '../../shared/chatops/http.js';
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
  /** A queue message still running after this long counts as a failed delivery (Azure: functionTimeout). */
  queueMessageTimeoutMs?: number;
  /** On stop, how long in-flight queue messages may finish; the rest reappear after their visibility timeout. */
  shutdownGraceMs?: number;
}

export interface RunningHost {
  url: string;
  port: number;
  functions: RegisteredFunction[];
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 100 * 1024 * 1024; // the Functions host's request limit
/**
 * Anonymous routes (health, the signed chat-ops routes) take at most the chat routes' 64 KB; the
 * host stops reading there, so a caller without any key cannot make it buffer 100 MB.
 */
const ANONYMOUS_MAX_BODY_BYTES = MAX_CHAT_BODY;
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
      if (res.headersSent) return void res.end();
      // What a caller sent wrong is a 4xx with a whole problem body, never a 500.
      if (error instanceof URIError)
        return send(res, 400, { title: 'Malformed percent-escape in the URL', detail: error.message }, 'application/problem+json');
      if (error instanceof BodyTooLarge) {
        // Stop here: answer, then close the connection rather than read (or drain) the rest.
        closeAfter(req, res);
        return send(res, 413, { title: 'The request is too large', detail: error.message }, 'application/problem+json');
      }
      log(`[host] error: ${error instanceof Error ? error.message : String(error)}`);
      send(res, 500, { title: 'Internal error' }, 'application/problem+json');
    });
  });

  /** Keys are checked, and the route found, before any of the body is read. */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    if (url.pathname.toLowerCase() === '/runtime/webhooks/eventgrid') {
      if (!systemKeyAllows(url, req)) {
        closeAfter(req, res);
        return send(
          res,
          401,
          { title: 'Unauthorized', detail: 'the Event Grid webhook needs the eventgrid_extension system key (code=)' },
          'application/problem+json',
        );
      }
      return eventGridWebhook(req, res, url, await readBody(req, MAX_BODY_BYTES));
    }
    const admin = /^\/admin\/functions\/([^/]+)\/?$/i.exec(url.pathname);
    if (admin) {
      // The Functions host requires the master key on /admin; so does this one once keys are on.
      if (!keyAllows('admin', url, req)) {
        closeAfter(req, res);
        return send(res, 401, { title: 'Unauthorized', detail: 'the admin endpoint needs the admin key' }, 'application/problem+json');
      }
      const name = decodeURIComponent(admin[1] as string);
      return adminInvoke(req, res, name, await readBody(req, MAX_BODY_BYTES));
    }
    if (url.pathname.toLowerCase().startsWith('/api/')) return httpFunction(req, res, url);
    send(res, 404, { title: 'Not found', detail: `${url.pathname} is not served by this host` }, 'application/problem+json');
  }

  const keysOn = () => Boolean(process.env.LOCAL_FUNCTION_KEY || process.env.LOCAL_ADMIN_KEY);
  const givenKey = (url: URL, req: IncomingMessage) =>
    url.searchParams.get('code') ?? (req.headers['x-functions-key'] as string | undefined);

  /**
   * Function keys, as the Functions host checks them (`code` query parameter or `x-functions-key`
   * header): off by default like `func start`, on when LOCAL_FUNCTION_KEY / LOCAL_ADMIN_KEY are set.
   * An admin key opens function-level routes too.
   */
  function keyAllows(level: string, url: URL, req: IncomingMessage): boolean {
    const functionKey = process.env.LOCAL_FUNCTION_KEY;
    const adminKey = process.env.LOCAL_ADMIN_KEY;
    if (level === 'anonymous' || !keysOn()) return true;
    const given = givenKey(url, req);
    if (!given) return false;
    if (adminKey && sameKey(given, adminKey)) return true;
    return level === 'function' && functionKey !== undefined && sameKey(given, functionKey);
  }

  /**
   * The Event Grid extension's webhook takes its system key (`eventgrid_extension` in Azure;
   * LOCAL_EVENTGRID_KEY here) or the admin key, never a function key. Checked whenever keys are on.
   */
  function systemKeyAllows(url: URL, req: IncomingMessage): boolean {
    if (!keysOn()) return true;
    const given = givenKey(url, req);
    if (!given) return false;
    return [process.env.LOCAL_EVENTGRID_KEY, process.env.LOCAL_ADMIN_KEY].some(
      (key) => key !== undefined && key !== '' && sameKey(given, key),
    );
  }

  async function httpFunction(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
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
      const level = bindingText(fn.trigger.authLevel, 'function').toLowerCase();
      if (!keyAllows(level, url, req)) {
        res.statusCode = 401; // the Functions host answers an empty 401
        closeAfter(req, res); // and this one reads none of the body
        return void res.end();
      }
      const body = await readBody(req, level === 'anonymous' ? ANONYMOUS_MAX_BODY_BYTES : MAX_BODY_BYTES);
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
  const queues = startQueuePollers(core, functions, log, {
    messageTimeoutMs: options.queueMessageTimeoutMs ?? DEFAULT_QUEUE_MESSAGE_TIMEOUT_MS,
    shutdownGraceMs: options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
  });
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

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

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
    const arm = (due = schedule.next(new Date())) => {
      if (stopped) return;
      // setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days): wait in steps.
      const handle = setTimeout(
        () => {
          handles.delete(handle);
          if (Date.now() < due.getTime()) arm(due);
          else void fire(due).finally(() => arm());
        },
        Math.min(MAX_TIMEOUT_MS, Math.max(0, due.getTime() - Date.now())),
      );
      handles.add(handle);
    };
    if (fn.trigger.runOnStartup === true) void fire(new Date()).finally(() => arm());
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
 *
 * Each message runs on its own: up to batchSize + newBatchThreshold at once per queue (host.json
 * defaults 16 + 8), and a new batch is fetched as soon as no more than newBatchThreshold are
 * running, so one slow message never holds up the others. A message still running after the
 * message timeout counts as a failed delivery (as functionTimeout does in Azure; the invocation
 * itself cannot be cancelled and its late result is ignored). Stopping waits for running messages
 * up to the shutdown grace; the rest become visible again when their visibility timeout ends.
 */
const MAX_DEQUEUE_COUNT = 5; // host.json extensions.queues.maxDequeueCount default
const BATCH_SIZE = 16; // host.json extensions.queues.batchSize default
const NEW_BATCH_THRESHOLD = BATCH_SIZE / 2; // host.json extensions.queues.newBatchThreshold default
const IDLE_POLL_MS = 300;
export const DEFAULT_QUEUE_MESSAGE_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

function startQueuePollers(
  core: FunctionsCore,
  functions: RegisteredFunction[],
  log: (line: string) => void,
  limits: { messageTimeoutMs: number; shutdownGraceMs: number },
): { stop(): Promise<void> } {
  let stopped = false;
  let wake: () => void = () => undefined;
  const stopping = new Promise<void>((resolveStop) => (wake = resolveStop));
  const pause = (ms: number) => Promise.race([stopping, new Promise<void>((r) => setTimeout(r, ms).unref())]);
  const loops: Array<Promise<void>> = [];
  // Invisible while it may still be running, so no second delivery overlaps the first.
  const visibilityTimeout = Math.ceil(limits.messageTimeoutMs / 1000) + 30;
  for (const fn of functions.filter((f) => f.trigger.type.toLowerCase() === 'queuetrigger')) {
    const name = fn.metadata.name;
    const queueName = String(resolveSetting(fn.trigger.queueName));
    const connectionSetting = bindingText(fn.trigger.connection, 'AzureWebJobsStorage');
    const connection = process.env[connectionSetting];
    if (!connection) {
      log(`[host] ${name}: app setting ${connectionSetting} is not set; queue trigger disabled`);
      continue;
    }
    const say = (line: string) => log(`[${new Date().toISOString()}] ${name}: ${line}`);
    loops.push(
      (async () => {
        const { QueueClient } = await import('@azure/storage-queue');
        const queue = new QueueClient(connection, queueName);
        const poison = new QueueClient(connection, `${queueName}-poison`);
        await queue.createIfNotExists();
        type Received = Awaited<ReturnType<typeof queue.receiveMessages>>['receivedMessageItems'][number];

        const deliver = async (m: Received): Promise<void> => {
          const text = Buffer.from(m.messageText, 'base64').toString('utf8');
          const metadata = {
            DequeueCount: m.dequeueCount,
            Id: m.messageId,
            InsertionTime: m.insertedOn.toISOString(),
            ExpirationTime: m.expiresOn.toISOString(),
            NextVisibleTime: m.nextVisibleOn.toISOString(),
            PopReceipt: m.popReceipt,
          };
          const invocation = core.invoke(
            name,
            [{ name: fn.trigger.name, data: { string: text } }],
            Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, { json: JSON.stringify(v) }])),
          );
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), limits.messageTimeoutMs)));
          let failure: string | undefined;
          try {
            if ((await Promise.race([invocation.then(() => 'done' as const), timedOut])) === 'timeout') {
              failure = `timed out after ${limits.messageTimeoutMs} ms`;
              invocation.catch(() => undefined); // its late outcome no longer counts
            }
          } catch (error) {
            failure = `invocation failed: ${error instanceof Error ? error.message : String(error)}`;
          } finally {
            clearTimeout(timer);
          }
          try {
            if (failure === undefined) return void (await queue.deleteMessage(m.messageId, m.popReceipt));
            say(`${failure} (delivery ${m.dequeueCount})`);
            if (m.dequeueCount >= MAX_DEQUEUE_COUNT) {
              await poison.createIfNotExists();
              await poison.sendMessage(m.messageText);
              await queue.deleteMessage(m.messageId, m.popReceipt);
            } else {
              await queue.updateMessage(m.messageId, m.popReceipt, undefined, Math.min(10, m.dequeueCount));
            }
          } catch (error) {
            // The message reappears when its visibility timeout ends; nothing is lost.
            say(`settling message ${m.messageId} failed: ${error instanceof Error ? error.message : String(error)}`);
          }
        };

        const running = new Set<Promise<void>>();
        while (!stopped) {
          if (running.size > NEW_BATCH_THRESHOLD) {
            await Promise.race([stopping, ...running]);
            continue;
          }
          let received: Received[];
          try {
            received = (await queue.receiveMessages({ numberOfMessages: BATCH_SIZE, visibilityTimeout })).receivedMessageItems;
          } catch (error) {
            say(`polling ${queueName} failed: ${error instanceof Error ? error.message : String(error)}`);
            await pause(2000);
            continue;
          }
          if (received.length === 0) {
            await pause(IDLE_POLL_MS);
            continue;
          }
          for (const m of received) {
            const delivery: Promise<void> = deliver(m).finally(() => running.delete(delivery));
            running.add(delivery);
          }
        }
        if (running.size === 0) return;
        const settled = await Promise.race([Promise.allSettled(running).then(() => true), pause(limits.shutdownGraceMs).then(() => false)]);
        if (!settled) say(`${running.size} messages still running at shutdown; they are delivered again after their visibility timeout`);
      })(),
    );
  }
  return {
    stop: async () => {
      stopped = true;
      wake();
      await Promise.allSettled(loops);
    },
  };
}

class BodyTooLarge extends Error {}

/** The body, read only up to `limit`: a declared or actual length past it stops reading at once. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const tooLarge = () => new BodyTooLarge(`the body is larger than ${limit} bytes`);
    if (Number(req.headers['content-length'] ?? 0) > limit) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      req.pause();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      stop();
      reject(tooLarge());
    };
    const onEnd = () => {
      stop();
      resolveBody(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** For answers given before the body is read: close the connection after them instead of draining it. */
function closeAfter(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('connection', 'close');
  res.once('finish', () => req.destroy());
}

/** Keys compared in constant time: digests of equal length, so neither length nor prefix leaks. */
export function sameKey(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
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
