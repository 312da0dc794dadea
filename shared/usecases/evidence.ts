import { createHash } from 'node:crypto';
import { DomainError } from '../errors.js';
import type { EdgeDoc, NodeDoc } from '../graph/model.js';
import type { GraphStore } from '../store/graphStore.js';
import type { EvidenceFact, EvidencePack } from '../tlog/evidencePack.js';
import { evidencePack, type ProofDeps } from './proveEvents.js';
import { resolveRoot, toLineageEdge, toLineageNode } from './traversal.js';
import { modelProfile } from './modelProfile.js';

/**
 * Q8: the evidence package for a model version: its upstream record, with the content hash of the
 * raw event behind every fact so a reviewer can fetch the event from the log and recompute its
 * SHA-256 over canonical JSON (RFC 8785 style). Four renderings of the same record: our JSON,
 * OpenLineage RunEvents, W3C PROV-JSON, and a Markdown report; each carries, for every raw event,
 * its body as stored, its inclusion proof in the evidence log and the signed checkpoint. The fifth
 * format, `pack`, is the evidence pack alone: what `npm run verify` checks offline.
 */
export const EVIDENCE_FORMATS = ['json', 'openlineage', 'prov', 'markdown', 'pack'] as const;
export type EvidenceFormat = (typeof EVIDENCE_FORMATS)[number];

const PRODUCER = 'https://github.com/aml-lineage/aml-lineage';
const RUN_EVENT_SCHEMA = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';

export interface EvidenceRecord {
  model: NodeDoc;
  nodes: NodeDoc[];
  edges: EdgeDoc[];
  partial: boolean;
  generatedAt: string;
  /** The evidence log's proofs of the raw events (`proveRecord`); no pack before the first checkpoint. */
  proofs?: { pack?: EvidencePack; notSequenced: string[] };
}

/** Attaches the evidence pack of every raw event behind the record. */
export async function proveRecord(record: EvidenceRecord, deps: ProofDeps): Promise<EvidenceRecord> {
  const cited = rawEvents(record).map((e) => ({ hash: e.hash, label: `${e.eventType} ${e.eventId} (${e.eventTime})` }));
  return { ...record, proofs: await evidencePack(deps, cited) };
}

/** The pack's fact for each raw event hash. */
function factsByHash(r: EvidenceRecord): Map<string, EvidenceFact> {
  return new Map((r.proofs?.pack?.facts ?? []).map((f) => [f.hash, f]));
}

const VERIFY_HINT =
  'Each raw event is a leaf of the evidence log, a signed append-only Merkle tree: `evidencePack` carries each body as stored, its inclusion proof and the signed checkpoint. Check it offline with `npm run verify -- pack.json --key KEY` (infra/verify/verify.mjs, Node only) against the public key from GET /api/checkpoints/key that you pinned.';

/** The evidence pack alone (format `pack`); 404 while nothing the record cites is sequenced. */
export function renderPack(r: EvidenceRecord): EvidencePack {
  const pack = r.proofs?.pack;
  if (!pack || pack.facts.length === 0)
    throw new DomainError(
      'not-found',
      'None of the raw events behind this model version is in the evidence log yet: the sequencer has not run since they were logged.',
    );
  return pack;
}

/** Every raw event behind the record, once, with what it asserted. */
export function rawEvents(
  record: EvidenceRecord,
): Array<{ hash: string; eventId: string; eventType: string; eventTime: string; source: string }> {
  const byHash = new Map<string, { hash: string; eventId: string; eventType: string; eventTime: string; source: string }>();
  for (const p of [...record.nodes.flatMap((n) => n.provenance), ...record.edges.flatMap((e) => e.provenance)]) {
    byHash.set(p.hash, { hash: p.hash, eventId: p.eventId, eventType: p.eventType, eventTime: p.eventTime, source: p.source });
  }
  return [...byHash.values()].sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.hash.localeCompare(b.hash));
}

export async function evidenceRecord(
  graph: GraphStore,
  query: { ref: string; workspace?: string; scope?: Set<string> | null; now?: Date },
): Promise<EvidenceRecord> {
  const model = await resolveRoot(graph, query.ref, query.workspace, query.scope);
  if (model.kind !== 'model')
    throw new DomainError('invalid-ref', `${model.label} is a ${model.kind}; evidence is assembled for a model version.`);
  const p = await modelProfile(graph, model, 25, 2000, query.scope ?? null);
  return {
    model,
    nodes: [model, ...p.upstream.nodes],
    edges: p.upstream.edges,
    partial: p.upstream.partial,
    generatedAt: (query.now ?? new Date()).toISOString(),
  };
}

export function renderJson(r: EvidenceRecord): unknown {
  return {
    model: toLineageNode(r.model),
    generatedAt: r.generatedAt,
    partial: r.partial,
    nodes: r.nodes.map((n) => toLineageNode(n)),
    edges: r.edges.map(toLineageEdge),
    rawEvents: rawEvents(r),
    evidencePack: r.proofs?.pack ?? null,
    /** Raw events logged but not yet sequenced (not yet under a signed checkpoint). */
    notYetSequenced: r.proofs?.notSequenced ?? [],
    verification: `Each hash is SHA-256 over the canonical JSON (keys sorted, no whitespace) of a raw event as stored. ${VERIFY_HINT}`,
  };
}

/** A stable UUID for a job, since OpenLineage run ids must be UUIDs and Azure ML job names are not. */
function runUuid(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/**
 * A node as an OpenLineage dataset. Azure Storage follows the spec's naming (namespace
 * `wasbs://{container}@{account}.blob.core.windows.net`, name the path), which our own endpoint
 * reads back as the same storage node.
 */
function datasetOf(n: NodeDoc): { namespace: string; name: string } {
  const blob = n.kind === 'storage' ? /^https:\/\/([^./]+)\.blob\.([^/]+)\/([^/]+)\/?(.*)$/.exec(n.key) : null;
  if (blob) {
    const [, account = '', suffix = '', container = '', path = ''] = blob;
    return { namespace: `wasbs://${container}@${account}.blob.${suffix}`, name: path };
  }
  if (n.kind === 'storage' && /^[a-z]+:\/\//i.test(n.key)) {
    const u = new URL(n.key);
    return { namespace: `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}`, name: u.pathname.replace(/^\//, '') };
  }
  const ws = n.workspace ?? 'registries';
  return { namespace: `azureml:/${ws.replace(/^\//, '')}`, name: n.key.slice(n.workspace ? n.workspace.length + 1 : 0) };
}

const DATASET_KINDS = new Set(['data', 'dataset', 'storage', 'model']);

export function renderOpenLineage(r: EvidenceRecord): unknown[] {
  const byId = new Map(r.nodes.map((n) => [n.id, n]));
  const proofs: EventProofs = { facts: factsByHash(r), checkpoint: r.proofs?.pack?.checkpoint };
  return r.nodes.filter((n) => n.kind === 'job').map((job) => runEventOf(job, byId, r.edges, r.generatedAt, proofs));
}

/** The raw events' bodies and inclusion proofs, and the checkpoint they verify against, when the record carries them. */
interface EventProofs {
  facts: ReturnType<typeof factsByHash>;
  checkpoint?: NonNullable<NonNullable<EvidenceRecord['proofs']>['pack']>['checkpoint'];
}

/**
 * One job as an OpenLineage RunEvent (spec 2-0-2): its inputs and outputs among `edges` (those
 * whose other end is in `byId`), its parent run, git source, and the events behind it as a custom
 * run facet (with each event's body and inclusion proof when `proofs` has them). `fallbackTime`
 * stands in when the job has no completion time or provenance.
 */
export function runEventOf(
  job: NodeDoc,
  byId: Map<string, NodeDoc>,
  edges: EdgeDoc[],
  fallbackTime: string,
  proofs?: EventProofs,
): Record<string, unknown> {
  const inputs = edges
    .filter((e) => e.to === job.id && e.kind === 'inputOf')
    .map((e) => byId.get(e.from))
    .filter((n): n is NodeDoc => !!n && DATASET_KINDS.has(n.kind));
  const outputs = edges
    .filter((e) => e.from === job.id && e.kind === 'produced')
    .map((e) => byId.get(e.to))
    .filter((n): n is NodeDoc => !!n);
  const git = job.facts.git?.value as { repository?: string; commit?: string; branch?: string } | undefined;
  const parent = edges.find((e) => e.to === job.id && e.kind === 'parentOf');
  const parentJob = parent ? byId.get(parent.from) : undefined;
  const ws = job.workspace ?? '';
  const facets: Record<string, unknown> = {
    amlLineage_provenance: {
      _producer: PRODUCER,
      _schemaURL: `${PRODUCER}/schemas/ProvenanceRunFacet.json`,
      events: job.provenance.map((p) => {
        const fact = proofs?.facts.get(p.hash);
        return {
          eventId: p.eventId,
          eventType: p.eventType,
          eventTime: p.eventTime,
          hash: p.hash,
          ...(fact ? { body: fact.body ?? null, leafIndex: fact.leafIndex, inclusionProof: fact.inclusionProof } : {}),
        };
      }),
      ...(proofs?.checkpoint ? { checkpoint: proofs.checkpoint } : {}),
    },
  };
  if (parentJob) {
    facets.parent = {
      _producer: PRODUCER,
      _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet',
      run: { runId: runUuid(parentJob.key) },
      job: { namespace: `azureml:/${ws.replace(/^\//, '')}`, name: parentJob.label },
    };
  }
  const jobFacets: Record<string, unknown> = {};
  if (git?.repository) {
    jobFacets.sourceCodeLocation = {
      _producer: PRODUCER,
      _schemaURL: 'https://openlineage.io/spec/facets/1-1-0/SourceCodeLocationJobFacet.json#/$defs/SourceCodeLocationJobFacet',
      type: 'git',
      url: git.repository,
      repoUrl: git.repository,
      ...(git.commit ? { version: git.commit } : {}),
      ...(git.branch ? { branch: git.branch } : {}),
    };
  }
  const status = job.facts.status?.value;
  return {
    eventType: status === 'Failed' ? 'FAIL' : status === 'Canceled' ? 'ABORT' : status === 'Completed' ? 'COMPLETE' : 'OTHER',
    eventTime:
      typeof job.facts.completedAt?.value === 'string' ? job.facts.completedAt.value : (job.provenance.at(-1)?.eventTime ?? fallbackTime),
    producer: PRODUCER,
    schemaURL: RUN_EVENT_SCHEMA,
    run: { runId: runUuid(job.key), facets },
    job: { namespace: `azureml:/${ws.replace(/^\//, '')}`, name: job.label, facets: jobFacets },
    inputs: inputs.map((n) => ({ ...datasetOf(n), facets: {} })),
    outputs: outputs.map((n) => ({ ...datasetOf(n), facets: {} })),
  };
}

export function renderProv(r: EvidenceRecord): unknown {
  const id = (n: NodeDoc) => `aml:${n.id}`;
  const entity: Record<string, unknown> = {};
  const activity: Record<string, unknown> = {};
  for (const n of r.nodes) {
    const attrs = {
      'prov:label': n.label,
      'prov:type': `aml:${n.kind}`,
      'aml:key': n.key,
      'aml:evidence': n.provenance.map((p) => p.hash),
    };
    if (n.kind === 'job') activity[id(n)] = attrs;
    else entity[id(n)] = attrs;
  }
  const byId = new Map(r.nodes.map((n) => [n.id, n]));
  const used: Record<string, unknown> = {};
  const generated: Record<string, unknown> = {};
  const derived: Record<string, unknown> = {};
  r.edges.forEach((e, i) => {
    const from = byId.get(e.from);
    const to = byId.get(e.to);
    if (!from || !to) return;
    const evidence = e.provenance.map((p) => p.hash);
    if (to.kind === 'job' && from.kind !== 'job')
      used[`_:u${i}`] = { 'prov:activity': id(to), 'prov:entity': id(from), 'prov:role': e.kind, 'aml:evidence': evidence };
    else if (from.kind === 'job' && to.kind !== 'job')
      generated[`_:g${i}`] = { 'prov:entity': id(to), 'prov:activity': id(from), 'aml:evidence': evidence };
    else if (from.kind === 'job' && to.kind === 'job')
      derived[`_:c${i}`] = { 'prov:informed': id(to), 'prov:informant': id(from), 'aml:evidence': evidence };
    else
      derived[`_:d${i}`] = { 'prov:generatedEntity': id(to), 'prov:usedEntity': id(from), 'prov:type': e.kind, 'aml:evidence': evidence };
  });
  const informed = Object.fromEntries(Object.entries(derived).filter(([k]) => k.startsWith('_:c')));
  const derivations = Object.fromEntries(Object.entries(derived).filter(([k]) => k.startsWith('_:d')));
  return {
    prefix: { aml: 'urn:aml-lineage:' },
    entity: { ...entity, ...provEvidence(r) },
    activity,
    used,
    wasGeneratedBy: generated,
    wasInformedBy: informed,
    wasDerivedFrom: derivations,
  };
}

/** PROV entities for the raw events (body, leaf, proof) and the signed checkpoint they are proven against. */
function provEvidence(r: EvidenceRecord): Record<string, unknown> {
  const pack = r.proofs?.pack;
  if (!pack) return {};
  const entities: Record<string, unknown> = {
    'aml:checkpoint': { 'prov:type': 'aml:SignedCheckpoint', 'aml:signedNote': pack.checkpoint },
  };
  for (const f of pack.facts) {
    entities[`aml:${f.hash}`] = {
      'prov:type': 'aml:RawEvent',
      ...(f.body !== undefined ? { 'aml:body': f.body } : {}),
      ...(f.purged ? { 'aml:purged': f.purged } : {}),
      'aml:leafIndex': f.leafIndex,
      'aml:inclusionProof': f.inclusionProof,
      'aml:provenAgainst': 'aml:checkpoint',
    };
  }
  return entities;
}

export function renderMarkdown(r: EvidenceRecord): string {
  const byId = new Map(r.nodes.map((n) => [n.id, n]));
  const lines = [
    `# Evidence: model ${r.model.label}`,
    '',
    `- Model: \`${r.model.key}\``,
    `- Generated: ${r.generatedAt}${r.partial ? ' (partial: the upstream walk hit its bound)' : ''}`,
    `- Nodes: ${r.nodes.length}, links: ${r.edges.length}, raw events: ${rawEvents(r).length}`,
    '',
    '## Lineage',
    '',
    '| From | Link | To | Asserted by (event, time, hash) |',
    '|---|---|---|---|',
    ...r.edges.map((e) => {
      const p = e.provenance[0];
      return `| ${byId.get(e.from)?.kind ?? ''} ${byId.get(e.from)?.label ?? e.from} | ${e.kind} | ${byId.get(e.to)?.kind ?? ''} ${byId.get(e.to)?.label ?? e.to} | ${p ? `${p.eventType}, ${p.eventTime}, \`${p.hash.slice(0, 19)}…\`` : ''} |`;
    }),
    '',
    '## Nodes',
    '',
    ...r.nodes.flatMap((n) => [
      `### ${n.kind} ${n.label}${n.placeholder ? ' (referenced, no event about it yet)' : ''}`,
      '',
      `Key: \`${n.key}\``,
      '',
      ...Object.entries(n.facts).map(
        ([k, f]) => `- **${k}**: \`${JSON.stringify(f.value).slice(0, 200)}\` (event time ${f.eventTime}, \`${f.hash.slice(0, 19)}…\`)`,
      ),
      '',
    ]),
    '## Raw events',
    '',
    '| Event | Type | Time | SHA-256 |',
    '|---|---|---|---|',
    ...rawEvents(r).map((e) => `| ${e.eventId} | ${e.eventType} | ${e.eventTime} | \`${e.hash}\` |`),
    '',
    ...markdownEvidenceLog(r),
  ];
  return lines.join('\n');
}

function markdownEvidenceLog(r: EvidenceRecord): string[] {
  const pack = r.proofs?.pack;
  const pending = r.proofs?.notSequenced ?? [];
  const lines = ['## Evidence log', ''];
  if (!pack)
    return [...lines, 'No raw event behind this record is in the evidence log yet: the sequencer has not run since they were logged.', ''];
  lines.push(
    'Checkpoint every proof below is against:',
    '',
    '```',
    pack.checkpoint.trimEnd(),
    '```',
    '',
    '| SHA-256 | Leaf | Body |',
    '|---|---|---|',
    ...pack.facts.map(
      (f) =>
        `| \`${f.hash}\` | ${f.leafIndex} | ${f.body !== undefined ? 'as stored' : f.purged ? `purged ${f.purged.purgedAt} (${f.purged.policy})` : 'missing'} |`,
    ),
    '',
  );
  if (pending.length > 0) lines.push(`Not yet sequenced (not yet protected): ${pending.map((h) => `\`${h}\``).join(', ')}`, '');
  lines.push(VERIFY_HINT, '', 'Save the block below as `pack.json`:', '', '```json', JSON.stringify(pack, null, 2), '```', '');
  return lines;
}
