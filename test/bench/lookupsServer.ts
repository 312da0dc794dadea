import { createHttpsServer } from '@vercel/cosmosdb-server';
import type { AddressInfo } from 'node:net';

/**
 * The embedded Cosmos DB server in a process of its own, for section 5 (lookups.ts starts it):
 * server and client then use a core each. Unlike `cosmosdb-server`'s CLI it keeps connections
 * alive (the CLI answers every request with `Connection: close`, so each request would pay a
 * TLS handshake; real Cosmos DB clients keep their connections). BENCH_LOOKUP_KEEPALIVE=0 turns
 * that off for comparison. Prints `listening on PORT` once ready; exits when its stdin closes,
 * so it never outlives the bench.
 */
const keepAlive = process.env.BENCH_LOOKUP_KEEPALIVE !== '0';
const server = createHttpsServer({ keepAlive });

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on ${(server.address() as AddressInfo).port}\n`);
});

function stop(): void {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}

process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
