/**
 * What a request would cost on Azure Cosmos DB, estimated from Microsoft's published figures, so
 * cost can be compared across changes on the embedded server (which charges a flat 1 per request).
 *
 * Source: "Understand request unit consumption" (learn.microsoft.com/azure/cosmos-db/
 * understand-request-unit-consumption), the table of RU by document size for a read and a write
 * (session consistency, default indexing). Between two sizes of the table the charge is
 * interpolated on a log scale; below 1 KB it is the 1 KB charge.
 *
 * Assumptions the documentation does not give figures for, kept on the cheap side: a query page
 * costs what a point read of the bytes it returned costs; a request that failed (404, 409, 412)
 * costs a 1 KB read; a transactional batch or a bulk request costs what its operations would cost
 * alone (the service charges each: grouping operations saves requests and round trips, not RU),
 * a read the size of the document it answered with, a write the size of the document it wrote, an
 * operation that failed a 1 KB read and one not attempted (424) nothing.
 */
const SIZES_KB = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];
const READ_RU = [1.0, 1.04, 1.14, 1.33, 1.67, 2.19, 4.76, 9.95, 20.28, 40.95, 145.9, 291.8];
const WRITE_RU = [4.95, 6.29, 6.67, 7.04, 9.52, 11.23, 22.67, 48.19, 98.29, 184.57, 625.0, 1250.0];

function interpolate(table: readonly number[], bytes: number): number {
  const kb = Math.max(1, bytes / 1024);
  for (let i = 1; i < SIZES_KB.length; i++) {
    const hi = SIZES_KB[i] as number;
    if (kb <= hi) {
      const lo = SIZES_KB[i - 1] as number;
      const t = Math.log2(kb / lo) / Math.log2(hi / lo);
      return (table[i - 1] as number) + t * ((table[i] as number) - (table[i - 1] as number));
    }
  }
  // Past 2 MB (Cosmos DB's document limit): linear in size.
  return ((table[table.length - 1] as number) * kb) / 2048;
}

export type CostedOperation = 'read' | 'write' | 'query' | 'failed';

export function estimateRequestUnits(operation: CostedOperation, bytes: number): number {
  switch (operation) {
    case 'read':
    case 'query':
      return interpolate(READ_RU, bytes);
    case 'write':
      return interpolate(WRITE_RU, bytes);
    case 'failed':
      return READ_RU[0] as number;
  }
}

/** What the Cosmos SDK's diagnostics say about one request: its operation, status and payloads. */
interface GatewayStatistic {
  operationType?: string;
  statusCode?: number;
  requestPayloadLengthInBytes?: number;
  responsePayloadLengthInBytes?: number;
}

/** The client-side statistics the Cosmos SDK attaches to a response or error, as far as the meter reads them. */
interface ClientSideStatistics {
  gatewayStatistics?: GatewayStatistic[];
  metadataDiagnostics?: { metadataLookups?: Array<{ resourceType?: string }> };
}

function clientSideStatisticsOf(responseOrError: unknown): ClientSideStatistics | undefined {
  return (responseOrError as { diagnostics?: { clientSideRequestStatistics?: ClientSideStatistics } })?.diagnostics
    ?.clientSideRequestStatistics;
}

/** The HTTP requests one SDK call sent, as its diagnostics list them; undefined when it has none. */
export function gatewayStatisticsOf(responseOrError: unknown): GatewayStatistic[] | undefined {
  const stats = clientSideStatisticsOf(responseOrError)?.gatewayStatistics;
  return Array.isArray(stats) && stats.length > 0 ? stats : undefined;
}

/** The metadata one SDK call looked up first (`pkranges`, `colls`, ...), by resource type. */
export function metadataLookupsOf(responseOrError: unknown): string[] {
  const lookups = clientSideStatisticsOf(responseOrError)?.metadataDiagnostics?.metadataLookups;
  return Array.isArray(lookups) ? lookups.map((l) => l.resourceType ?? 'unknown') : [];
}

/** What one SDK call was, from its diagnostics: `create`, `read 404`, ...; `unknown` when it has none. */
export function operationOf(responseOrError: unknown): string {
  const last = gatewayStatisticsOf(responseOrError)?.at(-1);
  if (!last) return 'unknown';
  const operation = last.operationType ?? 'unknown';
  return last.statusCode !== undefined && last.statusCode >= 400 ? `${operation} ${last.statusCode}` : operation;
}

/**
 * The estimate for one SDK call, from the diagnostics the Cosmos SDK attaches to every response
 * and error; undefined when there are none (a Storage call, a hand-made response).
 */
export function estimateFromDiagnostics(responseOrError: unknown): number | undefined {
  const stats = gatewayStatisticsOf(responseOrError);
  if (!stats) return undefined;
  const batch = (responseOrError as { result?: unknown }).result;
  if (stats.some((s) => s.operationType === 'batch') && Array.isArray(batch)) return operationsEstimate(batch as OperationAnswer[]);
  let total = 0;
  for (const s of stats) {
    const sent = s.requestPayloadLengthInBytes ?? 0;
    const received = s.responsePayloadLengthInBytes ?? 0;
    if (s.statusCode !== undefined && s.statusCode >= 400) total += estimateRequestUnits('failed', 0);
    else if (s.operationType === 'read') total += estimateRequestUnits('read', received);
    else if (s.operationType === 'query') total += estimateRequestUnits('query', received);
    else if (s.operationType === 'patch') total += estimateRequestUnits('write', received);
    else total += estimateRequestUnits('write', sent);
  }
  return total;
}

/** One operation's answer in a transactional batch or bulk response. */
export interface OperationAnswer {
  statusCode?: number;
  resourceBody?: unknown;
}

/**
 * Operations answered together (a transactional batch, a bulk request), each charged as if done
 * alone; `isRead(i)` says which were reads (a transactional batch here only writes).
 */
export function operationsEstimate(answers: readonly OperationAnswer[], isRead: (i: number) => boolean = () => false): number {
  let total = 0;
  for (const [i, { statusCode = 0, resourceBody }] of answers.entries()) {
    if (statusCode === 424) continue;
    const bytes = resourceBody === undefined ? 0 : Buffer.byteLength(JSON.stringify(resourceBody));
    if (statusCode >= 400) total += estimateRequestUnits('failed', 0);
    else total += estimateRequestUnits(isRead(i) ? 'read' : 'write', bytes);
  }
  return total;
}
