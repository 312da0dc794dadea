import { describe, expect, it } from 'vitest';
import { estimateFromDiagnostics, estimateRequestUnits, operationOf, operationsEstimate } from '../../shared/store/ruEstimate.js';
import { StoreMeter } from '../../shared/store/storeMeter.js';

describe('request unit estimate', () => {
  it('charges the documented figures at the table sizes and interpolates between them', () => {
    expect(estimateRequestUnits('read', 1024)).toBeCloseTo(1, 5);
    expect(estimateRequestUnits('read', 100)).toBeCloseTo(1, 5); // below 1 KB: the 1 KB charge
    expect(estimateRequestUnits('write', 1024)).toBeCloseTo(4.95, 5);
    expect(estimateRequestUnits('write', 64 * 1024)).toBeCloseTo(22.67, 5);
    const between = estimateRequestUnits('write', 3 * 1024);
    expect(between).toBeGreaterThan(6.29);
    expect(between).toBeLessThan(6.67);
    expect(estimateRequestUnits('failed', 50_000)).toBe(1);
  });

  it('reads the operation and payload sizes from Cosmos SDK diagnostics, and meters them', () => {
    const response = (operationType: string, statusCode: number, sent: number, received: number) => ({
      requestCharge: 1,
      diagnostics: {
        clientSideRequestStatistics: {
          gatewayStatistics: [{ operationType, statusCode, requestPayloadLengthInBytes: sent, responsePayloadLengthInBytes: received }],
        },
      },
    });
    expect(estimateFromDiagnostics(response('create', 201, 2048, 2200))).toBeCloseTo(6.29, 5);
    expect(estimateFromDiagnostics(response('read', 200, 0, 4096))).toBeCloseTo(1.14, 5);
    expect(estimateFromDiagnostics(response('create', 409, 2048, 70))).toBe(1);
    expect(estimateFromDiagnostics({ requestCharge: 1 })).toBeUndefined();
    const meter = new StoreMeter();
    meter.record(response('replace', 200, 1024, 1100));
    meter.recordError(response('read', 404, 0, 90));
    expect(meter.estimatedRequestUnits).toBeCloseTo(5.95, 5);
    expect(meter.storeRequests).toBe(2);
    // A transactional batch is charged per operation: each a write of the document it answered with.
    const doc = { id: 'x', pad: 'y'.repeat(2048) };
    const batch = {
      ...response('batch', 200, 5000, 5000),
      result: [
        { statusCode: 201, resourceBody: doc },
        { statusCode: 200, resourceBody: doc },
      ],
    };
    expect(estimateFromDiagnostics(batch)).toBeCloseTo(2 * estimateRequestUnits('write', Buffer.byteLength(JSON.stringify(doc))), 5);
    const failed = { ...batch, result: [{ statusCode: 412 }, { statusCode: 424 }] };
    expect(estimateFromDiagnostics(failed)).toBe(1);
    // Where the round trips go, by operation and failure status.
    expect(operationOf(response('create', 409, 2048, 70))).toBe('create 409');
    expect(operationOf({ requestCharge: 1 })).toBe('unknown');
    expect([...meter.byOperation]).toEqual([
      ['replace', 1],
      ['read 404', 1],
    ]);
  });

  it('meters a bulk call as the requests it sent and the metadata it looked up, and charges each operation as if done alone', () => {
    const doc = { id: 'x', pad: 'y'.repeat(5000) };
    const bytes = Buffer.byteLength(JSON.stringify(doc));
    const gateway = { operationType: 'batch', statusCode: 200 };
    // Two partition key ranges (two requests), and the ranges looked up first.
    const response = Object.assign(
      [
        { statusCode: 200, requestCharge: 1.5, resourceBody: doc },
        { statusCode: 404, requestCharge: 1 },
        { statusCode: 201, requestCharge: 7, resourceBody: doc },
      ],
      {
        diagnostics: {
          clientSideRequestStatistics: {
            gatewayStatistics: [gateway, gateway],
            metadataDiagnostics: { metadataLookups: [{ resourceType: 'pkranges' }] },
          },
        },
      },
    );
    const meter = new StoreMeter();
    meter.recordBulk(response, [true, true, false]);
    expect([...meter.byOperation]).toEqual([
      ['bulk write', 2],
      ['metadata pkranges', 1],
    ]);
    expect(meter.storeRequests).toBe(3);
    expect(meter.requestUnits).toBeCloseTo(9.5, 5);
    const estimate = estimateRequestUnits('read', bytes) + estimateRequestUnits('failed', 0) + estimateRequestUnits('write', bytes);
    expect(meter.estimatedRequestUnits).toBeCloseTo(estimate, 5);
    expect(operationsEstimate(response, (i) => i < 2)).toBeCloseTo(estimate, 5);

    const reads = new StoreMeter();
    reads.recordBulk(Object.assign([{ statusCode: 404, requestCharge: 1 }], { diagnostics: undefined }), [true]);
    expect([...reads.byOperation]).toEqual([['bulk read', 1]]);
  });
});
