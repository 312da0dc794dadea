import { createHash } from 'node:crypto';
import { DomainError } from '../errors.js';
import { approvalOf, nodeId } from '../graph/keys.js';
import type { ApprovalEvent } from '../ingest/approvals.js';
import { captureEvent, type CaptureDeps } from './captureEvent.js';
import { resolveRoot, toLineageNode, type LineageNode } from './traversal.js';

/** A decision as a pipeline states it (the body of POST /api/approvals). */
export interface ApprovalRequest {
  model: string;
  workspace?: string;
  decision: 'approved' | 'rejected';
  /** A name or e-mail (stored encrypted, shown as its hash), or an Entra object id. */
  approver?: string | { name?: string; email?: string; objectId?: string };
  at?: string;
  ticket?: string;
  link?: string;
  source?: string;
  id?: string;
}

export interface ApprovalAnswer {
  approval: LineageNode;
  model: LineageNode;
  /** The raw event's content hash in the event log: the approval's evidence. */
  hash: string;
  duplicate: boolean;
}

/**
 * Records a pipeline's decision as evidence: logged raw on the `approval` channel (the decision,
 * who decided, who posted it) and projected as an approval node linked to the model version. The
 * same decision posted twice (same source and id) is one approval, recorded once.
 */
export async function recordApproval(
  deps: CaptureDeps,
  request: ApprovalRequest,
  submittedBy: ApprovalEvent['submittedBy'],
  scope: Set<string> | null = null,
): Promise<ApprovalAnswer> {
  const model = await resolveRoot(deps.graph, request.model, request.workspace, scope);
  if (model.kind !== 'model')
    throw new DomainError('invalid-ref', `${model.label} is a ${model.kind}; approvals are about model versions.`);
  const approver = typeof request.approver === 'string' ? { name: request.approver } : (request.approver ?? {});
  const objectId = approver.objectId ?? (typeof request.approver === 'string' && isGuid(request.approver) ? request.approver : undefined);
  const person = approver.email ?? (approver.name && !isGuid(approver.name) ? approver.name : undefined);
  const at = request.at ?? deps.now().toISOString();
  const source = request.source ?? 'pipeline';
  const event: ApprovalEvent = {
    kind: 'approval',
    id:
      request.id ??
      createHash('sha256')
        .update(`${model.key}|${request.decision}|${person ?? objectId ?? ''}|${at}`)
        .digest('hex')
        .slice(0, 32),
    model: { key: model.key, label: model.label, workspace: model.workspace },
    decision: request.decision,
    ...(person ? { approver: person } : {}),
    ...(objectId ? { approverObjectId: objectId } : {}),
    at,
    ...(request.ticket ? { ticket: request.ticket } : {}),
    ...(request.link ? { link: request.link } : {}),
    source,
    submittedBy,
  };
  const ref = approvalOf({ kind: 'model', key: model.key, label: model.label, workspace: model.workspace }, source, event.id);
  // Posted before under the same source and id (a retried pipeline step): it stands as recorded.
  const before = await deps.graph.readNode(nodeId(ref.kind, ref.key));
  const hash = before?.provenance.find((p) => p.source === 'approval')?.hash;
  if (before && hash) return { approval: toLineageNode(before), model: toLineageNode(model), hash, duplicate: true };
  const outcome = await captureEvent(deps, event, { channel: 'approval', followUp: false });
  if (outcome.status !== 'projected')
    throw new DomainError(
      'invalid-request',
      `the approval was not recorded: ${outcome.status === 'dead-lettered' ? outcome.reason : outcome.status}`,
    );
  const approvalNode = await deps.graph.readNode(nodeId(ref.kind, ref.key));
  if (!approvalNode) throw new Error('the approval was projected but cannot be read back');
  return { approval: toLineageNode(approvalNode), model: toLineageNode(model), hash: outcome.hash, duplicate: outcome.duplicate };
}

const isGuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s.trim());
