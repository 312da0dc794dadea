import type { NodeRef } from '../../graph/keys.js';
import { emptyDelta, type EdgeKind, type GraphDelta } from '../../graph/model.js';
import { isRecord } from '../../util/isRecord.js';
import type { ValidationIssue } from '../issues.js';
import { datasetNode } from './datasets.js';
import { checkEvent, checkFacet, type EventKind, type InterpretedFacet } from './schema.js';

/**
 * OpenLineage events (spec 2-0-2) into graph deltas. A job is a job node by namespace and name; a
 * run is a job node of its own by namespace, name and runId, below its job (`parentOf`), and the
 * parent run facet puts it below the run that started it. Datasets are matched to what the graph
 * knows by URI (./datasets.ts); inputs feed the run (`inputOf`), outputs come from it (`produced`).
 * A JobEvent links its datasets to the job itself; a DatasetEvent only describes its dataset.
 *
 * Every facet is kept as sent, as the fact `facet.{name}` of its run, job or dataset, or on the
 * link for input and output facets: unknown and custom facets included, a facet `_deleted` by its
 * producer as null. Facets the graph reads are also kept in a shape of their own, when they match
 * their schema: `schema` (fields), `version`, `columnLineage` (output field -> input fields) and
 * `dataQuality` (metrics and assertions).
 */
export type OpenLineageResult =
  | { ok: true; kind: EventKind; eventId: string; eventType: string; time: string; delta: GraphDelta; notes: string[] }
  | { ok: false; kind?: EventKind; issues: ValidationIssue[] };

type Facets = Record<string, unknown>;
const facetsOf = (v: unknown): Facets => (isRecord(v) ? v : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The namespace an OpenLineage job lives in, as a key prefix (namespaces are free text). */
export function openLineageJob(namespace: string, name: string): NodeRef {
  return { kind: 'job', workspace: null, key: `openlineage:${namespace}/${name}`, label: name };
}

export function openLineageRun(namespace: string, name: string, runId: string): NodeRef {
  return {
    kind: 'job',
    workspace: null,
    key: `openlineage:${namespace}/${name}/runs/${runId.toLowerCase()}`,
    label: `${name} (run ${runId.slice(0, 8)})`,
  };
}

/** OpenLineage run states in the words Azure ML uses for job status. */
const STATUS: Record<string, string> = {
  START: 'Running',
  RUNNING: 'Running',
  COMPLETE: 'Completed',
  FAIL: 'Failed',
  ABORT: 'Canceled',
};

class Builder {
  readonly delta = emptyDelta();
  node(ref: NodeRef, facts: Facts, series?: Facts): void {
    this.delta.nodes.push({ ref, facts, ...(series ? { series } : {}) });
  }
  edge(kind: EdgeKind, from: NodeRef, to: NodeRef, facts?: Facts): void {
    this.delta.references.push(from, to);
    this.delta.edges.push({ kind, from, to, ...(facts && Object.keys(facts).length > 0 ? { facts } : {}) });
  }
}
type Facts = Record<string, unknown>;

export function normalizeOpenLineageEvent(raw: unknown): OpenLineageResult {
  const checked = checkEvent(raw);
  if (!checked.ok) return checked;
  const { kind, event, notes } = checked;
  const time = str(event.eventTime);
  const b = new Builder();
  const common = { producer: str(event.producer), schemaURL: str(event.schemaURL) };

  if (kind === 'DatasetEvent') {
    const dataset = facetsOf(event.dataset);
    const ref = datasetNode(str(dataset.namespace), str(dataset.name));
    b.node(ref, datasetFacts(dataset, common));
    return {
      ok: true,
      kind,
      eventId: `${str(dataset.namespace)}/${str(dataset.name)}@${time}`,
      eventType: 'OpenLineage DatasetEvent',
      time,
      delta: b.delta,
      notes,
    };
  }

  const job = facetsOf(event.job);
  const jobRef = openLineageJob(str(job.namespace), str(job.name));
  b.node(jobRef, { namespace: str(job.namespace), name: str(job.name), ...facetFacts(job.facets) });
  let target = jobRef;
  let eventId = `${str(job.namespace)}/${str(job.name)}@${time}`;
  let eventType = 'OpenLineage JobEvent';

  if (kind === 'RunEvent') {
    const run = facetsOf(event.run);
    const runId = str(run.runId);
    const state = typeof event.eventType === 'string' ? event.eventType : 'OTHER';
    const runRef = openLineageRun(str(job.namespace), str(job.name), runId);
    const status = STATUS[state];
    b.node(
      runRef,
      { runId, namespace: str(job.namespace), jobName: str(job.name), ...common, ...(status ? { status } : {}), ...facetFacts(run.facets) },
      { eventType: state, ...(status ? { status } : {}) },
    );
    b.edge('parentOf', jobRef, runRef, { relation: 'run' });
    linkParent(b, runRef, facetsOf(run.facets).parent);
    target = runRef;
    eventId = `${runId}/${state}@${time}`;
    eventType = `OpenLineage RunEvent ${state}`;
  }

  for (const input of Array.isArray(event.inputs) ? event.inputs : []) {
    const dataset = facetsOf(input);
    const ref = datasetNode(str(dataset.namespace), str(dataset.name));
    b.node(ref, datasetFacts(dataset, {}));
    b.edge('inputOf', ref, target, { ...facetFacts(dataset.inputFacets), ...interpreted(dataset.inputFacets) });
  }
  for (const output of Array.isArray(event.outputs) ? event.outputs : []) {
    const dataset = facetsOf(output);
    const ref = datasetNode(str(dataset.namespace), str(dataset.name));
    b.node(ref, datasetFacts(dataset, {}));
    b.edge('produced', target, ref, { ...facetFacts(dataset.outputFacets), ...interpreted(dataset.outputFacets) });
  }
  return { ok: true, kind, eventId, eventType, time, delta: b.delta, notes };
}

/** The parent run (and its job) that started this run, when the facet says so and matches its schema. */
function linkParent(b: Builder, run: NodeRef, facet: unknown): void {
  if (facet === undefined || checkFacet('parent', facet).length > 0) return;
  const parent = facetsOf(facet);
  const job = facetsOf(parent.job);
  const parentRun = openLineageRun(str(job.namespace), str(job.name), str(facetsOf(parent.run).runId));
  b.edge('parentOf', parentRun, run);
  b.edge('parentOf', openLineageJob(str(job.namespace), str(job.name)), parentRun, { relation: 'run' });
}

function datasetFacts(dataset: Facets, extra: Facts): Facts {
  return {
    namespace: str(dataset.namespace),
    name: str(dataset.name),
    ...extra,
    ...facetFacts(dataset.facets),
    ...interpreted(dataset.facets),
  };
}

/** Every facet as sent, one fact each; a facet its producer marks `_deleted` becomes null. */
function facetFacts(facets: unknown): Facts {
  const out: Facts = {};
  for (const [name, value] of Object.entries(facetsOf(facets))) {
    out[`facet.${name}`] = isRecord(value) && value._deleted === true ? null : value;
  }
  return out;
}

/** The facets the graph reads, in its own shape; a facet that fails its schema is only kept as sent. */
function interpreted(facets: unknown): Facts {
  const all = facetsOf(facets);
  const out: Facts = {};
  const issues: Record<string, ValidationIssue[]> = {};
  const read = (name: InterpretedFacet): Facets | undefined => {
    const value = all[name];
    if (value === undefined || (isRecord(value) && value._deleted === true)) return undefined;
    const problems = checkFacet(name, value);
    if (problems.length > 0) {
      issues[name] = problems;
      return undefined;
    }
    return facetsOf(value);
  };
  const schema = read('schema');
  if (schema) out.schema = Array.isArray(schema.fields) ? schema.fields : [];
  const version = read('version');
  if (version) out.version = str(version.datasetVersion);
  const columnLineage = read('columnLineage');
  if (columnLineage) out.columnLineage = columnLineage.fields ?? {};
  const metrics = read('dataQualityMetrics');
  const assertions = read('dataQualityAssertions');
  if (metrics || assertions) {
    out.dataQuality = {
      ...(metrics
        ? { rowCount: metrics.rowCount, bytes: metrics.bytes, fileCount: metrics.fileCount, columnMetrics: metrics.columnMetrics }
        : {}),
      ...(assertions ? { assertions: assertions.assertions } : {}),
    };
  }
  if (Object.keys(issues).length > 0) out.facetIssues = issues;
  return out;
}
