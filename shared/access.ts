import { z } from 'zod';
import { DomainError } from './errors.js';

/**
 * Who may ask what. Every route except health and the signed chat-ops routes requires a function
 * key (the host checks it). When Microsoft Entra ID sits in front (App Service authentication), the
 * platform adds `x-ms-client-principal` (base64 JSON, stripped from client requests) and its app
 * roles decide:
 *
 * - `Lineage.Reader`  lookups
 * - `Lineage.Auditor` lookups and evidence (unredacted fields)
 * - `Lineage.Admin`   everything, including replay, backfill and compliance runs
 * - `Lineage.Approver` records approval decisions (POST /api/approvals) and nothing else; admins may too
 *
 * A role value may end with `.WORKSPACE-NAME` to limit it to that workspace (`Lineage.Reader.ws-credit`).
 * Without the header (function key only) the caller is trusted with the key's reach.
 */
export const ROLES = ['reader', 'auditor', 'admin', 'approver'] as const;
export type Role = (typeof ROLES)[number];
/** The roles that carry each role's rights: reader < auditor < admin; approver stands aside, and admin covers it. */
const COVERED_BY: Record<Role, readonly Role[]> = {
  reader: ['reader', 'auditor', 'admin'],
  auditor: ['auditor', 'admin'],
  admin: ['admin'],
  approver: ['approver', 'admin'],
};

export interface Principal {
  /** 'entra' when App Service authentication vouched for it; 'key' for function-key callers. */
  via: 'entra' | 'key';
  name?: string;
  /** Role -> workspaces it covers (lower-case names); null = every workspace. */
  grants: Map<Role, Set<string> | null>;
}

const principalSchema = z.object({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).default([]),
});

const ROLE_RE = /^lineage\.(reader|auditor|admin|approver)(?:\.(.+))?$/i;

export function principalFrom(headers: { get(name: string): string | null }): Principal {
  const header = headers.get('x-ms-client-principal');
  if (!header) return { via: 'key', grants: new Map([['admin', null]]) };
  let parsed: z.infer<typeof principalSchema>;
  try {
    parsed = principalSchema.parse(JSON.parse(Buffer.from(header, 'base64').toString('utf8')));
  } catch {
    throw new DomainError('unauthorized', 'The client principal header is not valid.');
  }
  const roleType = parsed.role_typ ?? 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
  const grants = new Map<Role, Set<string> | null>();
  for (const claim of parsed.claims) {
    if (claim.typ !== roleType && claim.typ !== 'roles') continue;
    const m = ROLE_RE.exec(claim.val.trim());
    if (!m) continue;
    const role = (m[1] as string).toLowerCase() as Role;
    const ws = m[2]?.toLowerCase();
    const current = grants.get(role);
    if (current === null) continue;
    if (!ws) grants.set(role, null);
    else grants.set(role, new Set([...(current ?? []), ws]));
  }
  const nameType = parsed.name_typ ?? 'name';
  return { via: 'entra', name: parsed.claims.find((c) => c.typ === nameType)?.val, grants };
}

/** Workspaces the principal may see with at least `role`; null = all. Undefined = none. */
export function workspacesFor(principal: Principal, role: Role): Set<string> | null | undefined {
  let union: Set<string> | undefined;
  for (const [granted, workspaces] of principal.grants) {
    if (!COVERED_BY[role].includes(granted)) continue;
    if (workspaces === null) return null;
    union = new Set([...(union ?? []), ...workspaces]);
  }
  return union;
}

export function requireRole(principal: Principal, role: Role): Set<string> | null {
  const scope = workspacesFor(principal, role);
  if (scope === undefined)
    throw new DomainError('forbidden', `This needs the ${role} role (app role Lineage.${role[0]?.toUpperCase()}${role.slice(1)}).`);
  return scope;
}

/** Workspace name from a canonical workspace key (`…/workspaces/NAME`). */
export function workspaceName(key: string | null): string | null {
  if (!key) return null;
  return key.split('/').pop() ?? null;
}

/** Registry assets and commits belong to no workspace and are visible to every reader. */
export function canSee(scope: Set<string> | null, workspaceKey: string | null): boolean {
  if (scope === null || workspaceKey === null) return true;
  return scope.has(workspaceName(workspaceKey) ?? '');
}
