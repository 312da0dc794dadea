import { z } from 'zod';
import { approvalOf, type NodeRef } from '../graph/keys.js';
import { emptyDelta, type GraphDelta } from '../graph/model.js';
import { isRecord } from '../util/isRecord.js';
import { fromZodIssues, type ValidationIssue } from './issues.js';
import { isoDateTime, nonBlank } from './payload.js';

/**
 * Approvals as facts: an `approval` node (decision, by, at, ticket, link, source) linked to the
 * model version it decides on by `approvalOf`. Three sources: the model's tags, properties or
 * registry stage read by rules (APPROVAL_RULES), decisions CI/CD pipelines post (POST
 * /api/approvals, logged raw on the `approval` channel), and Activity Log writes that share a
 * model version into a registry (monitor/activityLog.ts).
 */
export interface ApprovalFacts {
  decision: 'approved' | 'rejected';
  /** Who: an identity token by the time it is stored (privacy/identity.ts), or a service principal's name. */
  by?: string;
  /** An Entra object id, kept as given. */
  byObjectId?: string;
  at: string;
  ticket?: string;
  link?: string;
  /** `tag`, `property`, `stage`, `github-actions`, `azure-devops`, `pipeline`, `activity-log`, … */
  source: string;
  /** For rule approvals: the rule that matched. */
  rule?: string;
}

export function approvalDelta(model: NodeRef, id: string, facts: ApprovalFacts, delta: GraphDelta = emptyDelta()): GraphDelta {
  const node = approvalOf(model, facts.source, id);
  delta.nodes.push({ ref: node, facts: { ...facts } });
  delta.references.push(node, model);
  delta.edges.push({ kind: 'approvalOf', from: node, to: model });
  return delta;
}

/**
 * `[DECISION@]SOURCE:KEY=VALUES`, `;`-separated. SOURCE is `tag` or `property` (with a key) or
 * `stage` (the registry stage, no key); VALUES is `*` (any value: the field names the approver)
 * or alternatives separated by `|`, compared ignoring case; DECISION is `approved` (default) or
 * `rejected`. Without a `*` rule naming them, the approver is read from `approved_by` or `approver`.
 */
export interface ApprovalRule {
  text: string;
  decision: 'approved' | 'rejected';
  source: 'tag' | 'property' | 'stage';
  key: string;
  /** Lower-cased alternatives; null: any non-empty value, which is then the approver. */
  values: string[] | null;
}

export const DEFAULT_APPROVAL_RULES =
  'tag:stage=production|approved;property:stage=production|approved;stage=production|approved;tag:approved_by=*;property:approved_by=*;tag:approver=*';

const RULE = /^(?:(approved|rejected)@)?(?:(tag|property):([^=]+)|(stage))=(.+)$/i;

export function parseApprovalRules(text: string): ApprovalRule[] {
  return text
    .split(';')
    .map((r) => r.trim())
    .filter(Boolean)
    .map((r) => {
      const m = RULE.exec(r);
      if (!m) throw new Error(`"${r}" is not [approved@|rejected@]tag:KEY=VALUES, property:KEY=VALUES or stage=VALUES`);
      const values = (m[5] as string).trim();
      return {
        text: r,
        decision: (m[1] ?? 'approved').toLowerCase() as ApprovalRule['decision'],
        source: ((m[2] ?? m[4]) as string).toLowerCase() as ApprovalRule['source'],
        key: (m[3] ?? 'stage').trim(),
        values: values === '*' ? null : values.split('|').map((v) => v.trim().toLowerCase()),
      };
    });
}

/** Fields a rule says name a person (`tag:approved_by=*`): they get the identity treatment wherever they appear. */
export function identityFieldsOf(rules: readonly ApprovalRule[]): string[] {
  return [...new Set(rules.filter((r) => r.values === null && r.source !== 'stage').map((r) => r.key))];
}

const APPROVER_KEYS = ['approved_by', 'approver'];

function field(facts: Record<string, unknown>, rule: Pick<ApprovalRule, 'source' | 'key'>): string | undefined {
  if (rule.source === 'stage') return nonBlank(facts.stage);
  const bag = facts[rule.source === 'tag' ? 'tags' : 'properties'];
  if (!isRecord(bag)) return undefined;
  const hit = Object.entries(bag).find(([k]) => k.toLowerCase() === rule.key.toLowerCase());
  return nonBlank(hit?.[1]);
}

/**
 * Approval nodes for the model versions in a delta whose tags, properties or stage match a rule,
 * at the time of the event that asserted them. One node per rule and model, so the same tag seen
 * again is the same approval.
 */
export function approvalsFromRules(delta: GraphDelta, rules: readonly ApprovalRule[], time: string): void {
  for (const { ref, facts } of [...delta.nodes]) {
    if (ref.kind !== 'model') continue;
    for (const rule of rules) {
      const value = field(facts, rule);
      if (value === undefined || (rule.values !== null && !rule.values.includes(value.toLowerCase()))) continue;
      const by =
        rule.values === null
          ? value
          : APPROVER_KEYS.map((key) => field(facts, { source: 'tag', key }) ?? field(facts, { source: 'property', key })).find(Boolean);
      approvalDelta(
        ref,
        `${rule.source}:${rule.key}`.toLowerCase(),
        {
          decision: rule.decision,
          ...(by ? { by } : {}),
          at: time,
          source: rule.source,
          rule: rule.text,
        },
        delta,
      );
    }
  }
}

/** What a pipeline posts (POST /api/approvals), after the route resolved the model and the caller. */
export const approvalEventSchema = z.object({
  kind: z.literal('approval'),
  /** Unique at its source: a pipeline run and attempt, an approval id. */
  id: z.string().min(1).max(200),
  model: z.object({ key: z.string().min(1), label: z.string().min(1), workspace: z.string().nullable() }),
  decision: z.enum(['approved', 'rejected']),
  approver: z.string().min(1).max(320).optional(),
  approverObjectId: z.uuid().optional(),
  at: isoDateTime,
  ticket: z.string().min(1).max(500).optional(),
  link: z.url().max(2048).optional(),
  source: z.string().min(1).max(64),
  /** Who posted it: `entra` (with the principal's name, an identity field), `key` or `signature`. */
  submittedBy: z.object({ via: z.enum(['entra', 'key', 'signature']), name: z.string().optional() }),
});
export type ApprovalEvent = z.infer<typeof approvalEventSchema>;

export function normalizeApprovalEvent(
  raw: unknown,
): { ok: true; event: ApprovalEvent; delta: GraphDelta } | { ok: false; issues: ValidationIssue[] } {
  const parsed = approvalEventSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: fromZodIssues(parsed.error.issues) };
  const e = parsed.data;
  const model: NodeRef = { kind: 'model', key: e.model.key, label: e.model.label, workspace: e.model.workspace };
  const delta = approvalDelta(model, e.id, {
    decision: e.decision,
    ...(e.approver ? { by: e.approver } : {}),
    ...(e.approverObjectId ? { byObjectId: e.approverObjectId } : {}),
    at: e.at,
    ...(e.ticket ? { ticket: e.ticket } : {}),
    ...(e.link ? { link: e.link } : {}),
    source: e.source,
  });
  return { ok: true, event: e, delta };
}
