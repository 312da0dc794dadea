import type { NodeDoc } from '../graph/model.js';
import { latestAtOrBefore, servedModelId } from '../usecases/asOf.js';
import { isRecord } from '../util/isRecord.js';

/** Small readers of node facts the compliance checks share. */

export function factRecord(doc: NodeDoc | undefined, name: string): Record<string, unknown> {
  const v = doc?.facts[name]?.value;
  return isRecord(v) ? v : {};
}

function stringAt(record: Record<string, unknown>, pattern: RegExp): string | undefined {
  for (const [k, v] of Object.entries(record)) if (pattern.test(k) && typeof v === 'string' && v.trim() !== '') return v.trim();
  return undefined;
}

/**
 * Who answers for a node: an `owner` tag or property, else whoever created it (a keyed hash: real
 * identities are redacted at ingest), else "unknown".
 */
export function ownerOf(doc: NodeDoc | undefined): string {
  const createdBy = doc?.facts.createdBy?.value;
  return (
    stringAt(factRecord(doc, 'tags'), /^owner$/i) ??
    stringAt(factRecord(doc, 'properties'), /^owner$/i) ??
    (typeof createdBy === 'string' ? createdBy : undefined) ??
    'unknown'
  );
}

export function isDeleted(doc: NodeDoc | undefined): boolean {
  return doc?.facts.deletedAt !== undefined;
}

/** The model node id a deployment's `model` observation names, as of `instant`. */
export function modelIdAt(deployment: NodeDoc, instant: string): string | null {
  return servedModelId(latestAtOrBefore(deployment.series.model, instant));
}

/** When a node was first asserted by an event about itself (sortable instant), if ever. */
export function firstSeen(doc: NodeDoc): string | null {
  let first: string | null = null;
  for (const p of doc.provenance) if (first === null || p.instant < first) first = p.instant;
  return first;
}
