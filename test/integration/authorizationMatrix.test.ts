import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppFunction } from '../../shared/api/app.js';
import type { HttpRoute } from '../../shared/api/route.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { modelRegistered } from '../helpers/events.js';
import { servicesForHandlers } from '../helpers/stores.js';

/**
 * The authorization matrix: every route with a role × every kind of caller, through the route
 * handlers and the real stores. Two workspaces share the name ws-credit in different
 * subscriptions; the role suffix ws-credit is mapped to A's. The expectations are a table written
 * by hand (not derived from access.ts), so a change in who may do what shows up here.
 */
const WS_A =
  '/subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/rg-a/providers/Microsoft.MachineLearningServices/workspaces/ws-credit';
const WS_B =
  '/subscriptions/bbbbbbbb-0000-0000-0000-000000000002/resourceGroups/rg-b/providers/Microsoft.MachineLearningServices/workspaces/ws-credit';

type Reach = 'all' | 'A' | 'none';
interface Caller {
  name: string;
  /** App Service authentication in front (WEBSITE_AUTH_ENABLED=True). */
  easyAuth: boolean;
  roles?: string[];
  /** What the caller may do at each role level. */
  reach: Record<'reader' | 'auditor' | 'admin', Reach>;
  /** Without a trusted principal, on routes the host opens only with the admin key. */
  adminKeyReach?: Reach;
}

const CALLERS: Caller[] = [
  { name: 'function key only', easyAuth: false, reach: { reader: 'all', auditor: 'none', admin: 'none' }, adminKeyReach: 'all' },
  {
    name: 'forged Lineage.Admin header without App Service authentication',
    easyAuth: false,
    roles: ['Lineage.Admin'],
    reach: { reader: 'all', auditor: 'none', admin: 'none' },
    adminKeyReach: 'all',
  },
  {
    name: 'Entra, no lineage role',
    easyAuth: true,
    roles: ['Other.Role'],
    reach: { reader: 'none', auditor: 'none', admin: 'none' },
  },
  {
    name: 'Entra Lineage.Reader',
    easyAuth: true,
    roles: ['Lineage.Reader'],
    reach: { reader: 'all', auditor: 'none', admin: 'none' },
  },
  {
    name: 'Entra Lineage.Reader.ws-credit (A only)',
    easyAuth: true,
    roles: ['Lineage.Reader.ws-credit'],
    reach: { reader: 'A', auditor: 'none', admin: 'none' },
  },
  {
    name: 'Entra Lineage.Reader.unmapped',
    easyAuth: true,
    roles: ['Lineage.Reader.unmapped'],
    reach: { reader: 'none', auditor: 'none', admin: 'none' },
  },
  {
    name: 'Entra Lineage.Auditor',
    easyAuth: true,
    roles: ['Lineage.Auditor'],
    reach: { reader: 'all', auditor: 'all', admin: 'none' },
  },
  {
    name: 'Entra Lineage.Admin.ws-credit (A only)',
    easyAuth: true,
    roles: ['Lineage.Admin.ws-credit'],
    reach: { reader: 'A', auditor: 'A', admin: 'A' },
  },
  {
    name: 'Entra Lineage.Admin',
    easyAuth: true,
    roles: ['Lineage.Admin'],
    reach: { reader: 'all', auditor: 'all', admin: 'all' },
  },
];

const saved = { ...process.env };
let routes: HttpRoute[];

function setEnv(easyAuth: boolean): void {
  if (easyAuth) process.env.WEBSITE_AUTH_ENABLED = 'True';
  else delete process.env.WEBSITE_AUTH_ENABLED;
}

function request(route: HttpRoute, caller: Caller, query: Record<string, string> = {}): HttpRequest {
  const headers: Record<string, string> = {};
  if (caller.roles)
    headers['x-ms-client-principal'] = Buffer.from(
      JSON.stringify({ auth_typ: 'aad', role_typ: 'roles', claims: caller.roles.map((val) => ({ typ: 'roles', val })) }),
    ).toString('base64');
  const path = route.spec.route.replace(/\{(\w+)\??\}/g, 'x');
  const url = `http://h/api/${path}?${new URLSearchParams(query).toString()}`;
  // An invalid body: an allowed call stops at validation (400) instead of running a replay or a compliance run.
  const body = ['POST', 'PUT'].includes(route.spec.method) ? { string: '{"notAField": true}' } : undefined;
  return new HttpRequest({ method: route.spec.method, url, headers, params: { holdId: 'x', id: 'x' }, body });
}

const context = () => new InvocationContext({ functionName: 'matrix', invocationId: 'i', logHandler: () => undefined });

beforeAll(async () => {
  const services = await servicesForHandlers({ ROLE_WORKSPACES: `ws-credit=${WS_A}` });
  for (const [ws, team] of [
    [WS_A, 'a'],
    [WS_B, 'b'],
  ] as const) {
    const event = modelRegistered('credit-default', 3, { id: `reg-${team}`, tags: { team } });
    event.topic = ws;
    expect((await captureEvent(services.capture, event)).status).toBe('projected');
  }
  const { FUNCTIONS } = (await import('../../functions/index.js')) as { FUNCTIONS: readonly AppFunction[] };
  routes = FUNCTIONS.filter((f): f is HttpRoute => f.kind === 'http' && f.spec.role !== undefined);
});

afterAll(() => {
  process.env = { ...saved };
});

describe('authorization matrix: routes × callers', () => {
  it.each(CALLERS.map((c) => [c.name, c] as const))('%s', async (_, caller) => {
    setEnv(caller.easyAuth);
    expect(routes.length).toBeGreaterThan(10);
    const wrong: string[] = [];
    for (const route of routes) {
      const role = route.spec.role as 'reader' | 'auditor' | 'admin';
      const allowed = !caller.easyAuth && route.spec.authLevel === 'admin' ? caller.adminKeyReach : caller.reach[role];
      const expectDenied = allowed === 'none' || (allowed === 'A' && route.spec.allWorkspaces === true);
      const res = await route.handler(request(route, caller), context());
      const denied = res.status === 401 || res.status === 403;
      if (denied !== expectDenied) wrong.push(`${route.name}: ${res.status} (expected ${expectDenied ? '403' : 'not 401/403'})`);
    }
    expect(wrong).toEqual([]);
  });

  it('a reader of ws-credit in subscription A gets A’s model and not B’s, though both are named ws-credit', async () => {
    setEnv(true);
    const caller = CALLERS.find((c) => c.name.startsWith('Entra Lineage.Reader.ws-credit')) as Caller;
    const lineageRoute = routes.find((r) => r.name === 'lineage') as HttpRoute;
    const ask = async (ws: string) =>
      (await lineageRoute.handler(request(lineageRoute, caller, { ref: `${ws}/models/credit-default/versions/3` }), context())).status;
    expect(await ask(WS_A)).toBe(200);
    expect(await ask(WS_B)).toBe(404);
    const searchRoute = routes.find((r) => r.name === 'search') as HttpRoute;
    const found = await searchRoute.handler(request(searchRoute, caller, { q: 'credit-default' }), context());
    expect(found.status).toBe(200);
    const body = found.jsonBody as { nodes: Array<{ workspace: string }> };
    expect(body.nodes.map((n) => n.workspace)).toEqual([WS_A.toLowerCase()]);
    // Without App Service authentication the same header is ignored: key-only reach (reader, every workspace).
    setEnv(false);
    expect(await ask(WS_B)).toBe(200);
  });
});
