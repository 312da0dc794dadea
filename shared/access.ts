import { z } from 'zod';
import { DomainError } from './errors.js';
import { parseWorkspaceId } from './graph/keys.js';

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
 * A role value may end with `.SUFFIX` to limit it to one workspace (`Lineage.Reader.ws-credit`). The
 * suffix is looked up in ROLE_WORKSPACES (`ws-credit=/subscriptions/…/workspaces/ws-credit,…`):
 * workspace names repeat across subscriptions and resource groups, ARM ids do not. A suffix with no
 * mapping grants nothing. Scopes hold canonical (lower-case) workspace ARM ids.
 *
 * The header is trusted only when App Service authentication is on, which the platform signals
 * with WEBSITE_AUTH_ENABLED=True; without it anyone holding a function key could forge it.
 * Callers without a trusted principal (function key only) get KEY_ONLY_ROLE (default reader, or
 * auditor, or none) over every workspace, never admin: admin reach belongs to the admin key, on
 * routes whose authLevel is admin (the host checks that key before the app runs).
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
  /** Role -> workspaces it covers (canonical workspace ARM ids); null = every workspace. */
  grants: Map<Role, Set<string> | null>;
}

type Env = Record<string, string | undefined>;

export interface PrincipalOptions {
  /** The route's key level: on `admin` routes the host has already checked the admin key. */
  authLevel?: 'anonymous' | 'function' | 'admin';
  /** Where the settings come from (process.env in the app; tests pass their own). */
  env?: Env;
}

const SUFFIX_RE = /^[A-Za-z0-9][\w.-]*$/;

const accessSchema = z.object({
  /** Set by App Service (read-only) when its authentication module is on; nothing else vouches for the header. */
  WEBSITE_AUTH_ENABLED: z
    .string()
    .optional()
    .transform((v) => v?.toLowerCase() === 'true'),
  /** What a caller with only a function key may do. */
  KEY_ONLY_ROLE: z.enum(['reader', 'auditor', 'none']).default('reader'),
  /** Role suffix -> workspace ARM id, comma-separated `suffix=armId` pairs. */
  ROLE_WORKSPACES: z
    .string()
    .optional()
    .transform((text, ctx) => {
      const map = new Map<string, string>();
      for (const entry of (text ?? '')
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean)) {
        const eq = entry.indexOf('=');
        const suffix = eq > 0 ? entry.slice(0, eq).trim().toLowerCase() : '';
        const ws = eq > 0 ? parseWorkspaceId(entry.slice(eq + 1)) : undefined;
        if (!SUFFIX_RE.test(suffix) || !ws) {
          ctx.addIssue({ code: 'custom', message: `"${entry}" is not SUFFIX=ARM id of an Azure ML workspace` });
          return z.NEVER;
        }
        if (map.has(suffix)) {
          ctx.addIssue({ code: 'custom', message: `the suffix "${suffix}" is mapped twice; a suffix names one workspace` });
          return z.NEVER;
        }
        map.set(suffix, ws.key);
      }
      return map;
    }),
});
type AccessSettings = z.infer<typeof accessSchema>;
/** The settings read here (the settings contract test uses them). */
export const ACCESS_SETTING_NAMES: readonly string[] = Object.keys(accessSchema.shape);

let cached: { input: string; settings: AccessSettings } | undefined;

/** The access settings, parsed once per distinct value (they are read on every request). */
function accessSettings(env: Env): AccessSettings {
  const pick = (name: string) => env[name]?.trim() || undefined;
  const raw = {
    WEBSITE_AUTH_ENABLED: pick('WEBSITE_AUTH_ENABLED'),
    KEY_ONLY_ROLE: pick('KEY_ONLY_ROLE'),
    ROLE_WORKSPACES: pick('ROLE_WORKSPACES'),
  };
  const input = JSON.stringify(raw);
  if (cached?.input === input) return cached.settings;
  const parsed = accessSchema.safeParse(raw);
  if (!parsed.success)
    throw new DomainError(
      'not-configured',
      `Invalid settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  cached = { input, settings: parsed.data };
  return parsed.data;
}

const principalSchema = z.object({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).default([]),
});

const ROLE_RE = /^lineage\.(reader|auditor|admin|approver)(?:\.(.+))?$/i;

/**
 * Whether App Service authentication is on (the platform's WEBSITE_AUTH_ENABLED), so the principal
 * header can be trusted. Admin routes are then registered at function level and the Lineage.Admin
 * role decides (see `hostAuthLevel` in api/route.ts); without it they keep needing the admin key.
 */
export function behindAppServiceAuthentication(env: Env = process.env): boolean {
  return accessSchema.shape.WEBSITE_AUTH_ENABLED.parse(env.WEBSITE_AUTH_ENABLED?.trim() || undefined);
}

export function principalFrom(headers: { get(name: string): string | null }, options: PrincipalOptions = {}): Principal {
  const settings = accessSettings(options.env ?? process.env);
  const header = settings.WEBSITE_AUTH_ENABLED ? headers.get('x-ms-client-principal') : null;
  if (!header) {
    const role = options.authLevel === 'admin' ? 'admin' : settings.KEY_ONLY_ROLE;
    return { via: 'key', grants: new Map(role === 'none' ? [] : [[role, null]]) };
  }
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
    const current = grants.get(role);
    if (current === null) continue;
    if (m[2] === undefined) {
      grants.set(role, null);
      continue;
    }
    // A suffix with no mapping names no workspace, so it grants nothing.
    const workspace = settings.ROLE_WORKSPACES.get(m[2].toLowerCase());
    if (workspace) grants.set(role, new Set([...(current ?? []), workspace]));
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

/** The canonical workspace ARM id of a workspace key in any casing (what scopes hold). */
export function canonicalWorkspace(key: string): string {
  return parseWorkspaceId(key)?.key ?? key.trim().toLowerCase();
}

/** Registry assets and commits belong to no workspace and are visible to every reader. */
export function canSee(scope: Set<string> | null, workspaceKey: string | null): boolean {
  if (scope === null || workspaceKey === null) return true;
  return scope.has(canonicalWorkspace(workspaceKey));
}
