import {
  estimateFromDiagnostics,
  gatewayStatisticsOf,
  metadataLookupsOf,
  operationOf,
  operationsEstimate,
  type OperationAnswer,
} from './ruEstimate.js';

/**
 * Counts store requests (Cosmos round trips) and request units. Round trips are the
 * hardware-independent cost figure: the embedded server answers every request with a flat charge
 * of 1, so locally request units equal store requests; real Cosmos DB charges by operation and
 * document size, which `estimatedRequestUnits` estimates from the SDK's diagnostics (ruEstimate.ts).
 */
export class StoreMeter {
  storeRequests = 0;
  requestUnits = 0;
  estimatedRequestUnits = 0;
  /** Requests by what they were: the operation, and the status when it failed (`create 409`, `read 404`). */
  readonly byOperation = new Map<string, number>();

  private count(responseOrError: unknown): void {
    this.countAs(operationOf(responseOrError));
  }

  private countAs(operation: string, requests = 1): void {
    this.storeRequests += requests;
    this.byOperation.set(operation, (this.byOperation.get(operation) ?? 0) + requests);
  }

  record(response: object | undefined): void {
    this.count(response);
    const charge = (response as { requestCharge?: unknown } | undefined)?.requestCharge;
    if (typeof charge === 'number' && Number.isFinite(charge)) this.requestUnits += charge;
    this.estimatedRequestUnits += estimateFromDiagnostics(response) ?? 0;
  }

  /**
   * A bulk call (`container.items.bulk`) that answered: every HTTP request it sent, as its
   * diagnostics list them (one per partition key range its operations fell in, more when a range's
   * operations pass the SDK's request body limit), named `bulk read` or `bulk write`; and the
   * metadata it looked up first (`metadata pkranges`: the container's partition key ranges, read
   * once per client and container and then cached; `metadata colls`: the container's definition,
   * when this client had not read it). Request units are charged per operation (ruEstimate.ts).
   */
  recordBulk(response: readonly OperationAnswer[] & { diagnostics?: unknown }, reads: readonly boolean[]): void {
    this.countAs(reads.every(Boolean) ? 'bulk read' : 'bulk write', gatewayStatisticsOf(response)?.length ?? 1);
    for (const resourceType of metadataLookupsOf(response)) this.countAs(`metadata ${resourceType}`);
    for (const answer of response) {
      const charge = (answer as { requestCharge?: unknown }).requestCharge;
      if (typeof charge === 'number' && Number.isFinite(charge)) this.requestUnits += charge;
    }
    this.estimatedRequestUnits += operationsEstimate(response, (i) => reads[i] === true);
  }

  /** Errors are round trips too (a 409 or 412 still costs a request). */
  recordError(error: unknown): void {
    this.count(error);
    const charge = (error as { headers?: Record<string, unknown> } | undefined)?.headers?.['x-ms-request-charge'];
    const n = Number(charge);
    if (Number.isFinite(n)) this.requestUnits += n;
    this.estimatedRequestUnits += estimateFromDiagnostics(error) ?? 0;
  }

  snapshot(): { storeRequests: number; requestUnits: number } {
    return { storeRequests: this.storeRequests, requestUnits: this.requestUnits };
  }
}
