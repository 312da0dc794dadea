import { z } from 'zod';
import { scanPii } from '../privacy/pii.js';
import { SYSTEM_FIELDS, type StoredDoc } from '../store/reads.js';
import { isTombstone } from '../store/tombstone.js';
import { sha256Hex } from '../util/canonicalJson.js';
import { ratio, type PiiFindingItem } from './report.js';

/**
 * Verifies that no personal data or secret sits in stored metadata: graph nodes (tags, properties,
 * parameters, descriptions, URIs, free text) and edges (input names, data paths), raw events and
 * request traces. Ingest redacts before
 * anything is written; this catches what slipped through, including records captured before a
 * detection rule existed. Findings name the document and field path, never the value.
 *
 * Counting: a node or edge is counted once however often it changes (the state keeps the ids of
 * those scanned); raw events and request traces are append-only, so each new one is counted when it
 * first appears. Tombstones and legal-hold marks are changes to records already counted.
 */
export const PII_CONTAINERS = ['graph', 'events', 'requests'] as const;
export type PiiContainer = (typeof PII_CONTAINERS)[number];

const docFindingsSchema = z.object({
  container: z.enum(PII_CONTAINERS),
  document: z.string(),
  label: z.string().nullable(),
  findings: z.array(z.object({ kind: z.string(), path: z.string() })),
});

/**
 * The graph documents scanned, as 64-bit digests of `pk|id` (16 hex characters each, stored as one
 * string): 16 bytes a document, so the state of a graph of millions stays tens of megabytes.
 * A collision would undercount by one; at 4 million documents its odds are about 1 in 2 million.
 */
export class DigestSet extends Set<string> {
  static parse(text: string): DigestSet {
    const set = new DigestSet();
    for (let i = 0; i + 16 <= text.length; i += 16) set.add(text.slice(i, i + 16));
    return set;
  }

  toJSON(): string {
    return [...this].join('');
  }
}

export function docDigest(pk: string, id: string): string {
  return sha256Hex(`${pk}|${id}`).slice(0, 16);
}

export const piiStateSchema = z.object({
  /** `container|pk|id` -> findings, only for documents that have some. */
  flagged: z.record(z.string(), docFindingsSchema),
  /** Graph documents scanned (so changes to one count it once). */
  scanned: z
    .union([z.instanceof(DigestSet), z.string().regex(/^([0-9a-f]{16})*$/)])
    .transform((v) => (v instanceof DigestSet ? v : DigestSet.parse(v))),
  /** Append-only records counted so far. */
  records: z.object({ events: z.number().int(), requests: z.number().int() }),
});
export type PiiState = z.infer<typeof piiStateSchema>;

export function emptyPiiState(): PiiState {
  return { flagged: {}, scanned: new DigestSet(), records: { events: 0, requests: 0 } };
}

/**
 * Nodes, and edges once (the copy kept with the source: edge facts hold input names and data
 * paths). Closures hold only ids.
 */
function isScannedGraphDoc(doc: StoredDoc): boolean {
  return doc.docType === 'node' || (doc.docType === 'edge' && doc.dir === 'out');
}

/** Not metadata: Cosmos' own fields, our keys and retention marks. */
const NOT_METADATA = new Set([...SYSTEM_FIELDS, 'id', 'pk', 'ttl', 'legalHold']);

/** The parts of a stored document that carry metadata, by field path. */
function scannable(container: PiiContainer, doc: StoredDoc): Record<string, unknown> | undefined {
  if (container === 'graph') {
    if (!isScannedGraphDoc(doc)) return undefined;
    const facts = (doc.facts ?? {}) as Record<string, { value?: unknown }>;
    const series = (doc.series ?? {}) as Record<string, Array<{ value?: unknown }>>;
    return {
      ...(doc.docType === 'node' ? { label: doc.label, key: doc.key } : {}),
      facts: Object.fromEntries(Object.entries(facts).map(([k, f]) => [k, f?.value])),
      series: Object.fromEntries(Object.entries(series).map(([k, entries]) => [k, (entries ?? []).map((e) => e?.value)])),
    };
  }
  return Object.fromEntries(Object.entries(doc).filter(([k]) => !NOT_METADATA.has(k)));
}

export function scanDocument(container: PiiContainer, doc: StoredDoc): PiiFindingItem[] {
  const content = scannable(container, doc);
  if (!content || isTombstone(doc)) return [];
  const findings = scanPii(content);
  // A label that itself holds personal data is not repeated in the report.
  const labelClean = !findings.some((f) => f.path === 'label' || f.path === 'key');
  const label =
    container === 'graph' && labelClean
      ? String(doc.label)
      : container === 'events' && typeof doc.eventType === 'string'
        ? doc.eventType
        : null;
  return findings.map((f) => ({ container, document: doc.id, label, kind: f.kind, path: f.path }));
}

export function updatePiiState(state: PiiState, container: PiiContainer, docs: StoredDoc[], countNew: boolean): void {
  for (const doc of docs) {
    if (container === 'graph' && !isScannedGraphDoc(doc)) continue;
    const key = `${container}|${doc.pk}|${doc.id}`;
    const items = scanDocument(container, doc);
    if (items.length > 0) {
      const first = items[0] as PiiFindingItem;
      state.flagged[key] = {
        container,
        document: doc.id,
        label: first.label,
        findings: items.map((i) => ({ kind: i.kind, path: i.path })),
      };
    } else delete state.flagged[key];
    if (container === 'graph') state.scanned.add(docDigest(doc.pk, doc.id));
    else if (countNew && !isTombstone(doc) && doc.legalHold === undefined) state.records[container]++;
  }
}

export function piiSection(state: PiiState) {
  const scanned = state.scanned.size + state.records.events + state.records.requests;
  const flaggedDocs = Object.values(state.flagged);
  const items: PiiFindingItem[] = flaggedDocs.flatMap((d) =>
    d.findings.map((f) => ({ container: d.container, document: d.document, label: d.label, kind: f.kind, path: f.path })),
  );
  items.sort((a, b) => a.container.localeCompare(b.container) || a.document.localeCompare(b.document) || a.path.localeCompare(b.path));
  const byKind: Record<string, number> = {};
  for (const i of items) byKind[i.kind] = (byKind[i.kind] ?? 0) + 1;
  const clean = Math.max(0, scanned - flaggedDocs.length);
  return { numerator: clean, denominator: scanned, ratio: ratio(clean, scanned), items, byKind };
}
