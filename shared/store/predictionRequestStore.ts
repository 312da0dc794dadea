import type { Container, ItemDefinition } from '@azure/cosmos';
import { z } from 'zod';
import { ConflictStoreError, CorruptDocumentError } from '../errors.js';
import { predictionRequestSchema, type PredictionRequest } from '../ingest/predictionRequest.js';
import { nodeId, parseArmId } from '../graph/keys.js';
import { provenanceSchema, type Provenance } from '../graph/model.js';
import { metered, unlessNotFound } from './storeErrors.js';
import type { StoreMeter } from './storeMeter.js';
import { isTombstone, parseTombstone, type Tombstone } from './tombstone.js';

/**
 * Prediction requests from the online-endpoint traffic log, one small document each, keyed and
 * partitioned by the request id so "which model answered request X" starts with a point read.
 * Kept apart from the graph: there are far more requests than lineage nodes, and they expire
 * sooner.
 */
export const predictionRequestDocSchema = predictionRequestSchema.extend({
  id: z.string(),
  pk: z.string(),
  instant: z.string(),
  endpointNodeId: z.string(),
  deploymentNodeId: z.string(),
  provenance: provenanceSchema,
});
export type PredictionRequestDoc = z.infer<typeof predictionRequestDocSchema>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Cosmos ids may not contain / \ ? #; request ids are GUIDs in practice but are not ours. The case
 * is kept (`Req-1` and `req-1` are two requests), except in a GUID, whose case means nothing.
 */
export function predictionRequestDocId(requestId: string): string {
  const trimmed = requestId.trim();
  const id = GUID.test(trimmed) ? trimmed.toLowerCase() : trimmed;
  return encodeURIComponent(id).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

export class PredictionRequestStore {
  constructor(
    private readonly container: Container,
    private readonly meter: StoreMeter,
  ) {}

  async put(record: PredictionRequest, instant: string, prov: Provenance): Promise<'created' | 'exists'> {
    const endpoint = parseArmId(record.endpointArmId);
    const deployment = parseArmId(record.deploymentArmId);
    if (!endpoint || !deployment) throw new CorruptDocumentError(`traffic record ${record.requestId} names no endpoint/deployment`);
    const id = predictionRequestDocId(record.requestId);
    const doc: PredictionRequestDoc = {
      ...record,
      id,
      pk: id,
      instant,
      endpointNodeId: nodeId(endpoint.kind, endpoint.key),
      deploymentNodeId: nodeId(deployment.kind, deployment.key),
      provenance: prov,
    };
    try {
      await metered(this.meter, `recording prediction request ${id}`, () => this.container.items.create(doc));
      return 'created';
    } catch (error) {
      if (error instanceof ConflictStoreError) return 'exists';
      throw error;
    }
  }

  /** The request, the tombstone left when it was purged under a retention policy, or undefined. */
  async get(requestId: string): Promise<PredictionRequestDoc | Tombstone | undefined> {
    const id = predictionRequestDocId(requestId);
    const response = await unlessNotFound(
      metered(this.meter, `reading prediction request ${id}`, () => this.container.item(id, id).read<ItemDefinition>()),
    );
    if (!response?.resource) return undefined;
    if (isTombstone(response.resource)) {
      const tombstone = parseTombstone(response.resource);
      if (!tombstone) throw new CorruptDocumentError(`request tombstone ${id} does not match its schema`);
      return tombstone;
    }
    const parsed = predictionRequestDocSchema.safeParse(response.resource);
    if (!parsed.success) throw new CorruptDocumentError(`request document ${id} does not match its schema`);
    return parsed.data;
  }
}
