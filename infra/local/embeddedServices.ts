import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Stand-ins for the cloud services, for the local host and tests: a Cosmos DB server in Node
 * (@vercel/cosmosdb-server, HTTPS with a self-signed certificate) and Azurite (Blob, Queue, Table).
 * Both listen on loopback only. Neither is used in Azure.
 */
const require = createRequire(import.meta.url);

/** The Cosmos DB emulator's published well-known key; the embedded server accepts any key. */
export const LOCAL_COSMOS_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';
/** Azurite's published development account. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningService {
  url: string;
  stop(): Promise<void>;
}

export async function startCosmos(port?: number): Promise<RunningService & { key: string }> {
  const { createHttpsServer } = await import('@vercel/cosmosdb-server');
  // Keep-alive: without it every request pays a TLS handshake (about 2.3 ms against 0.35 ms a read).
  const server = createHttpsServer({ keepAlive: true });
  // The server answers `Connection: keep-alive` without a timeout hint, so clients reuse sockets it
  // would close after Node's default 5 s idle: a write after a pause then fails with ECONNRESET.
  server.keepAliveTimeout = 10 * 60_000;
  server.headersTimeout = 10 * 60_000 + 1_000;
  refuseOversizedItems(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port ?? 0, '127.0.0.1', () => resolve());
  });
  const listenPort = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${listenPort}/`,
    key: LOCAL_COSMOS_KEY,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Cosmos DB's documented item limit; the embedded server has none, so a 3 MB write would pass locally only. */
export const COSMOS_MAX_ITEM_BYTES = 2 * 1024 * 1024;

/**
 * Answers item writes over COSMOS_MAX_ITEM_BYTES as Cosmos DB does (413 RequestEntityTooLarge),
 * before the embedded server reads them.
 */
function refuseOversizedItems(server: Server): void {
  const handlers = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const write = (req.method === 'POST' || req.method === 'PUT') && /\/docs(\/[^/]*)?$/.test((req.url ?? '').split('?')[0] ?? '');
    if (write && Number(req.headers['content-length'] ?? 0) > COSMOS_MAX_ITEM_BYTES) {
      req.resume();
      res.writeHead(413, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'RequestEntityTooLarge', message: 'Request size is too large' }));
      return;
    }
    for (const handler of handlers) handler(req, res);
  });
}

export interface RunningAzurite extends RunningService {
  connectionString: string;
  blobPort: number;
  queuePort: number;
  tablePort: number;
}

/**
 * Azurite as a child process, in memory, telemetry off (it would otherwise try to reach the
 * internet). Resolves once the blob, queue and table endpoints accept connections.
 */
export async function startAzurite(ports?: { blob?: number; queue?: number; table?: number }): Promise<RunningAzurite> {
  // 0 or unset: any free port (Azurite itself cannot report which one it took).
  const blobPort = ports?.blob || (await freePort());
  const queuePort = ports?.queue || (await freePort());
  const tablePort = ports?.table || (await freePort());
  const location = mkdtempSync(join(tmpdir(), 'azurite-'));
  const bin = join(require.resolve('azurite/package.json'), '..', 'dist', 'src', 'azurite.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      bin,
      '--silent',
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(blobPort),
      '--queueHost',
      '127.0.0.1',
      '--queuePort',
      String(queuePort),
      '--tableHost',
      '127.0.0.1',
      '--tablePort',
      String(tablePort),
    ],
    // In-memory persistence forbids --location; the temporary working directory keeps any stray files out of the repo.
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: location },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`Azurite exited with code ${code}: ${output.slice(-2000)}`))),
  );
  await Promise.race([Promise.all([waitForPort(blobPort), waitForPort(queuePort), waitForPort(tablePort)]), exited]);
  const connectionString = [
    'DefaultEndpointsProtocol=http',
    `AccountName=${AZURITE_ACCOUNT}`,
    `AccountKey=${AZURITE_KEY}`,
    `BlobEndpoint=http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT}`,
    `QueueEndpoint=http://127.0.0.1:${queuePort}/${AZURITE_ACCOUNT}`,
    `TableEndpoint=http://127.0.0.1:${tablePort}/${AZURITE_ACCOUNT}`,
  ].join(';');
  return {
    url: `http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT}`,
    connectionString,
    blobPort,
    queuePort,
    tablePort,
    stop: async () => {
      exited.catch(() => undefined);
      if (child.exitCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(location, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, timeoutMs = 30_000): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
