import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import { evidenceRoute } from '../../functions/evidence.js';
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

describe('the principal header is trusted only behind App Service authentication (hole 5)', () => {
  const forgedAdmin = headers(['Lineage.Admin']);
  const none = headers(undefined);

  it('without WEBSITE_AUTH_ENABLED a forged header is ignored: the caller is a key-only reader', () => {
    for (const env of [{}, { WEBSITE_AUTH_ENABLED: 'False' }, { WEBSITE_AUTH_ENABLED: '' }]) {
      const p = principalFrom(forgedAdmin, { env });
      expect(p.via).toBe('key');
      expect(requireRole(p, 'reader')).toBeNull();
      expect(() => requireRole(p, 'auditor')).toThrow(expect.objectContaining({ code: 'forbidden' }));
      expect(() => requireRole(p, 'admin')).toThrow(expect.objectContaining({ code: 'forbidden' }));
    }
  });

  it('no header (function key only) is never admin reach; KEY_ONLY_ROLE sets the role, default reader', () => {
    expect(() => requireRole(principalFrom(none, { env: {} }), 'admin')).toThrow(expect.objectContaining({ code: 'forbidden' }));
    expect(() => requireRole(principalFrom(none, { env: EASY_AUTH }), 'auditor')).toThrow(expect.objectContaining({ code: 'forbidden' }));
    const auditor = principalFrom(none, { env: { KEY_ONLY_ROLE: 'auditor' } });
    expect(requireRole(auditor, 'auditor')).toBeNull();
    expect(() => requireRole(auditor, 'admin')).toThrow(expect.objectContaining({ code: 'forbidden' }));
    expect(() => requireRole(principalFrom(none, { env: { KEY_ONLY_ROLE: 'none' } }), 'reader')).toThrow(
      expect.objectContaining({ code: 'forbidden' }),
    );
    // Admin reach is the admin key's, on admin-level routes; the setting cannot hand it to every key.
    expect(() => principalFrom(none, { env: { KEY_ONLY_ROLE: 'admin' } })).toThrow(
      expect.objectContaining({ code: 'not-configured', message: expect.stringContaining('KEY_ONLY_ROLE') }),
    );
  });

  it('admin-level routes (the host demands the admin key) keep admin reach for key-only callers', () => {
    expect(requireRole(principalFrom(none, { authLevel: 'admin', env: {} }), 'admin')).toBeNull();
    expect(requireRole(principalFrom(forgedAdmin, { authLevel: 'admin', env: {} }), 'admin')).toBeNull();
    // Behind App Service authentication a signed-in caller's own roles decide, even with the admin key.
    expect(() => requireRole(principalFrom(headers(['Lineage.Reader']), { authLevel: 'admin', env: EASY_AUTH }), 'admin')).toThrow(
      expect.objectContaining({ code: 'forbidden' }),
    );
  });

  it('behind App Service authentication the header decides', () => {
    const p = principalFrom(forgedAdmin, { env: EASY_AUTH });
    expect(p.via).toBe('entra');
    expect(requireRole(p, 'admin')).toBeNull();
    expect(principalFrom(forgedAdmin, { env: { WEBSITE_AUTH_ENABLED: 'true' } }).via).toBe('entra');
  });

  describe('through a route handler, as the worker calls it', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });
    const call = (principal?: string) =>
      evidenceRoute.handler(
        new HttpRequest({
          method: 'GET',
          url: 'http://h/api/evidence?ref=azureml:credit:3&code=k',
          headers: principal ? { 'x-ms-client-principal': principal } : {},
        }),
        new InvocationContext({ functionName: 'evidence', invocationId: 'i' }),
      );

    it('a function key alone, or with a forged admin header, is refused the auditor route (403)', async () => {
      delete process.env.WEBSITE_AUTH_ENABLED;
      delete process.env.KEY_ONLY_ROLE;
      for (const principal of [undefined, forgedAdmin.get('x-ms-client-principal') as string]) {
        const res = await call(principal);
        expect(res.status).toBe(403);
        expect(res.jsonBody).toMatchObject({ code: 'forbidden' });
      }
    });
  });
});
