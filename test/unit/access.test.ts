import { describe, expect, it } from 'vitest';
import { canSee, principalFrom, requireRole } from '../../shared/access.js';
import { parseWorkspaceId } from '../../shared/graph/keys.js';

/** Two workspaces with the same name in different subscriptions: names are not identities. */
const WS_A =
  '/subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/rg-risk/providers/Microsoft.MachineLearningServices/workspaces/ws-credit';
const WS_B =
  '/subscriptions/bbbbbbbb-0000-0000-0000-000000000002/resourceGroups/rg-risk/providers/Microsoft.MachineLearningServices/workspaces/ws-credit';
const keyOf = (armId: string) => parseWorkspaceId(armId)?.key ?? '';

/** The `x-ms-client-principal` header App Service authentication adds for a caller with these app roles. */
function headers(roles: string[] | undefined): { get(name: string): string | null } {
  const value =
    roles === undefined
      ? null
      : Buffer.from(
          JSON.stringify({
            auth_typ: 'aad',
            name_typ: 'name',
            role_typ: 'roles',
            claims: [{ typ: 'name', val: 'alex' }, ...roles.map((val) => ({ typ: 'roles', val }))],
          }),
        ).toString('base64');
  return { get: (name) => (name.toLowerCase() === 'x-ms-client-principal' ? value : null) };
}

const EASY_AUTH = { WEBSITE_AUTH_ENABLED: 'True' };

describe('workspace-scoped roles name a workspace by its ARM id (hole 1)', () => {
  const env = { ...EASY_AUTH, ROLE_WORKSPACES: `ws-credit=${WS_A}, fraud=${WS_B.replace('ws-credit', 'ws-fraud')}` };

  it('a role suffix covers the workspace it is mapped to, not a same-named one in another subscription', () => {
    const scope = requireRole(principalFrom(headers(['Lineage.Reader.ws-credit']), { env }), 'reader');
    expect(canSee(scope, keyOf(WS_A))).toBe(true);
    expect(canSee(scope, keyOf(WS_B))).toBe(false);
    // ARM ids compare case-insensitively, whatever casing the caller or the record uses.
    expect(canSee(scope, WS_A.toUpperCase())).toBe(true);
    expect(canSee(scope, `${WS_A}/`)).toBe(true);
    // Registry assets and commits belong to no workspace.
    expect(canSee(scope, null)).toBe(true);
  });

  it('matches suffixes ignoring case and unions several', () => {
    const scope = requireRole(principalFrom(headers(['Lineage.Reader.WS-CREDIT', 'lineage.reader.fraud']), { env }), 'reader');
    expect(scope).toEqual(new Set([keyOf(WS_A), keyOf(WS_B.replace('ws-credit', 'ws-fraud'))]));
  });

  it('a suffix with no mapping grants nothing', () => {
    expect(() => requireRole(principalFrom(headers(['Lineage.Reader.ws-unknown']), { env }), 'reader')).toThrow(
      expect.objectContaining({ code: 'forbidden' }),
    );
    expect(() => requireRole(principalFrom(headers(['Lineage.Admin.ws-credit']), { env: EASY_AUTH }), 'reader')).toThrow(
      expect.objectContaining({ code: 'forbidden' }),
    );
    // An unmapped suffix beside a mapped one adds nothing to it.
    const scope = requireRole(principalFrom(headers(['Lineage.Auditor.ws-credit', 'Lineage.Auditor.nope']), { env }), 'auditor');
    expect(scope).toEqual(new Set([keyOf(WS_A)]));
  });

  it('an unscoped role still covers every workspace', () => {
    const scope = requireRole(principalFrom(headers(['Lineage.Reader', 'Lineage.Reader.ws-credit']), { env }), 'reader');
    expect(scope).toBeNull();
    expect(canSee(scope, keyOf(WS_B))).toBe(true);
  });

  it('refuses a mapping that is not suffix=workspace ARM id, naming the setting', () => {
    for (const bad of ['ws-credit', `ws-credit=${WS_A}/models/m`, `ws-credit=${WS_A},ws-credit=${WS_B}`, `a b=${WS_A}`]) {
      expect(() => principalFrom(headers(['Lineage.Reader.ws-credit']), { env: { ...EASY_AUTH, ROLE_WORKSPACES: bad } }), bad).toThrow(
        expect.objectContaining({ code: 'not-configured', message: expect.stringContaining('ROLE_WORKSPACES') }),
      );
    }
  });
});
