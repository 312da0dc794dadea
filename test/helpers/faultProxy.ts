import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { prng } from '../bench/stream.js';

/**
 * A real HTTP(S) proxy that makes a share of the requests fail the ways a cloud service does,
 * so the SDKs and the app meet the faults on the wire rather than through mocks:
 *
 * - `429`: throttled, request not forwarded: 429 with Cosmos DB's `x-ms-retry-after-ms` or ARM's
 *   `Retry-After`; Azure Storage throttles with 503 `ServerBusy` instead;
 * - `503`: service unavailable, not forwarded;
 * - `reset-before`: the connection is dropped before the request reaches the service;
 * - `reset-after`: the request is forwarded and done by the service, then the connection is
 *   dropped before the answer gets back (the client cannot tell whether it happened).
 *
 * Choices come from a seeded generator, so a failing run can be repeated with the same seed.
 */
export type FaultKind = '429' | '503' | 'reset-before' | 'reset-after';
export const FAULT_KINDS: readonly FaultKind[] = ['429', '503', 'reset-before', 'reset-after'];

export interface FaultProxyOptions {
  /** Where requests go: `https://127.0.0.1:1234/` or `http://...`. */
  target: string;
  /** Share of requests that fail, 0 to 1. */
  rate: number;
  seed: number;
  /** Error shapes: Cosmos DB's data plane, Azure Resource Manager, or Azure Storage (Blob). */
  dialect: 'cosmos' | 'arm' | 'storage';
}

export interface FaultProxy {
  url: string;
  /** False lets everything through (for reading the results back). */
  enabled: boolean;
  requests: number;
  injected: Record<FaultKind, number>;
  /**
   * Refuses every request with 503 for `ms` milliseconds: an outage longer than the in-process
   * retries, so the platform's redelivery has to recover what ran into it.
   */
  outage(ms: number): void;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

/** The embedded Cosmos DB server's own self-signed certificate, so the proxy looks the same to the SDK. */
function cosmosServerCertificate(): { key: Buffer; cert: Buffer } {
  const root = dirname(require.resolve('@vercel/cosmosdb-server/package.json'));
  return { key: readFileSync(join(root, 'key.pem')), cert: readFileSync(join(root, 'cert.pem')) };
}

type Refusal = { status: number; headers: Record<string, string>; body: string };
const json = (status: number, headers: Record<string, string>, body: unknown): Refusal => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const storageXml = (code: string, message: string): Refusal => ({
  status: 503,
  headers: { 'content-type': 'application/xml', 'x-ms-error-code': code },
  body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
});
const THROTTLED = 'Too many requests (injected).';
const UNAVAILABLE = 'The service is unavailable (injected).';
const REFUSALS: Record<FaultProxyOptions['dialect'], Record<'429' | '503', Refusal>> = {
  cosmos: {
    '429': json(429, { 'x-ms-retry-after-ms': '10' }, { code: 'TooManyRequests', message: THROTTLED }),
    '503': json(503, {}, { code: 'ServiceUnavailable', message: UNAVAILABLE }),
  },
  arm: {
    '429': json(429, { 'retry-after': '0' }, { error: { code: 'SubscriptionRequestsThrottled', message: THROTTLED } }),
    '503': json(503, {}, { error: { code: 'ServiceUnavailable', message: UNAVAILABLE } }),
  },
  storage: { '429': storageXml('ServerBusy', THROTTLED), '503': storageXml('ServerBusy', UNAVAILABLE) },
};

function refuse(res: ServerResponse, kind: '429' | '503', dialect: FaultProxyOptions['dialect']): void {
  const { status, headers, body } = REFUSALS[dialect][kind];
  res.writeHead(status, headers);
  res.end(body);
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const secure = target.protocol === 'https:';
  const random = prng(options.seed);
  const proxy: FaultProxy = {
    url: '',
    enabled: true,
    requests: 0,
    injected: { '429': 0, '503': 0, 'reset-before': 0, 'reset-after': 0 },
    outage: (ms) => {
      outageUntil = Date.now() + ms;
    },
    stop: () => Promise.resolve(),
  };
  let outageUntil = 0;

  const forward = (req: IncomingMessage, res: ServerResponse, resetAfter: boolean) => {
    const send = secure ? httpsRequest : httpRequest;
    const upstream = send(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
        rejectUnauthorized: false, // loopback test servers with self-signed certificates only
      },
      (answer) => {
        if (resetAfter) {
          // The service did the work; its answer never reaches the client.
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    proxy.requests++;
    const fails = proxy.enabled && random() < options.rate;
    const drawn = fails ? (FAULT_KINDS[Math.floor(random() * FAULT_KINDS.length)] as FaultKind) : undefined;
    // The draws are made either way, so an outage does not shift the seeded faults after it.
    const kind = proxy.enabled && Date.now() < outageUntil ? '503' : drawn;
    if (kind) proxy.injected[kind]++;
    if (kind === '429' || kind === '503') {
      req.resume();
      req.on('end', () => refuse(res, kind, options.dialect));
      return;
    }
    if (kind === 'reset-before') {
      req.socket.destroy();
      return;
    }
    forward(req, res, kind === 'reset-after');
  };

  const server: Server = secure ? createHttpsServer({ ...cosmosServerCertificate(), keepAlive: true }, handle) : createHttpServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  proxy.url = `${target.protocol}//127.0.0.1:${port}/`;
  proxy.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
