import { estimateFromDiagnostics, operationOf } from './ruEstimate.js';

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
    this.storeRequests += 1;
    const operation = operationOf(responseOrError);
    this.byOperation.set(operation, (this.byOperation.get(operation) ?? 0) + 1);
  }

  record(response: object | undefined): void {
    this.count(response);
    const charge = (response as { requestCharge?: unknown } | undefined)?.requestCharge;
    if (typeof charge === 'number' && Number.isFinite(charge)) this.requestUnits += charge;
    this.estimatedRequestUnits += estimateFromDiagnostics(response) ?? 0;
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
