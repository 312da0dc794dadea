import { HttpRequest, InvocationContext } from '@azure/functions';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { FunctionsCore } from '../../infra/local/functionsCore.js';
import { isAppFunction, registeredRoutes, type AppFunction } from '../../shared/api/app.js';
import { openApiDocument } from '../../shared/api/openapi.js';
import type { HttpRoute } from '../../shared/api/route.js';
import { PROBLEM_CODES, type ProblemCode } from '../../shared/errors.js';
import { ROOT } from '../helpers/localHost.js';

/**
 * The app's one list of functions (functions/index.ts), checked without a server: every module in
 * functions/ is listed, importing a module registers nothing, the list is what reaches the worker
 * contract, and the OpenAPI document publishes every route with the error answers derived from
 * its problem codes.
 */

// The worker contract the local host provides, installed before anything calls `app.*`; every
// app module is imported below, after it.
const core = new FunctionsCore(() => undefined);
core.install();

const moduleFiles = readdirSync(join(ROOT, 'functions'), { withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith('.ts') && e.name !== 'index.ts')
  .map((e) => e.name);

let declaredByModule: Map<string, AppFunction[]>;
let registeredByModules: number;
let FUNCTIONS: readonly AppFunction[];
let routes: HttpRoute[];

beforeAll(async () => {
  declaredByModule = new Map();
  for (const file of moduleFiles) {
    const exports = (await import(join(ROOT, 'functions', file))) as Record<string, unknown>;
    declaredByModule.set(file, Object.values(exports).filter(isAppFunction));
  }
  registeredByModules = core.functions.size;
  ({ FUNCTIONS } = await import('../../functions/index.js'));
  routes = FUNCTIONS.filter((f): f is HttpRoute => f.kind === 'http');
});

describe('the function list', () => {
  it('finds the function modules (top-level files of functions/, not index.ts)', () => {
    expect(moduleFiles).toEqual(expect.arrayContaining(['lineage.ts', 'captureEventGrid.ts', 'complianceTimers.ts']));
    expect(moduleFiles).not.toContain('index.ts');
  });

  it('importing a function module registers nothing', () => {
    expect(registeredByModules).toBe(0);
  });

  it('lists every declaration of every module, and every module declares something', () => {
    for (const [file, declared] of declaredByModule) {
      expect(declared.length, `${file} declares no function`).toBeGreaterThan(0);
      for (const d of declared) expect(FUNCTIONS.includes(d), `${file}: ${d.name} is not in functions/index.ts`).toBe(true);
    }
    const fromModules = new Set([...declaredByModule.values()].flat());
    for (const f of FUNCTIONS) expect(fromModules.has(f), `${f.name} is not declared in a module of functions/`).toBe(true);
  });

  it('registers exactly the list through the worker contract, each route with its method, path and auth level', () => {
    expect([...core.functions.keys()].sort()).toEqual(FUNCTIONS.map((f) => f.name).sort());
    for (const r of routes) {
      const trigger = core.functions.get(r.name)?.trigger;
      expect(trigger, r.name).toMatchObject({
        type: 'httpTrigger',
        route: r.spec.route,
        methods: [r.spec.method],
        authLevel: r.spec.authLevel,
      });
    }
    const triggers = Object.fromEntries(
      FUNCTIONS.filter((f) => f.kind !== 'http').map((f) => [f.name, core.functions.get(f.name)?.trigger.type]),
    );
    expect(triggers).toEqual({
      captureEventGrid: 'eventGridTrigger',
      captureEventHub: 'eventHubTrigger',
      enrichResource: 'queueTrigger',
      maintainClosures: 'queueTrigger',
      projectFanOutPart: 'queueTrigger',
      runOperation: 'queueTrigger',
      complianceLineage: 'timerTrigger',
      complianceDrift: 'timerTrigger',
      complianceRetention: 'timerTrigger',
      compliancePii: 'timerTrigger',
      complianceIntegrity: 'timerTrigger',
      complianceServing: 'timerTrigger',
      complianceSchemaDrift: 'timerTrigger',
      reconcileServing: 'timerTrigger',
      sequenceEvents: 'timerTrigger',
    });
    expect(registeredRoutes()).toEqual(routes);
  });

  it('keeps one name per function and one function per method and path', () => {
    expect(new Set(FUNCTIONS.map((f) => f.name)).size).toBe(FUNCTIONS.length);
    const endpoints = routes.map((r) => `${r.spec.method} ${r.spec.route.toLowerCase()}`);
    expect(new Set(endpoints).size).toBe(endpoints.length);
  });
});

describe('error answers', () => {
  const has = (r: HttpRoute, ...codes: ProblemCode[]) => expect(r.problems, r.name).toEqual(expect.arrayContaining(codes));

  it('derives the wrapper codes from the contract: 400 with input, 413 with a body, 401 and 403 with a role, 500 always', () => {
    for (const r of routes) {
      has(r, 'internal');
      if (r.spec.query || r.spec.params || r.spec.body) has(r, 'invalid-request');
      if (r.spec.body) has(r, 'payload-too-large');
      if (r.spec.role) has(r, 'unauthorized', 'forbidden', 'store-unavailable');
    }
  });

  it('publishes every route with its success answers and one problem answer per status of its codes', () => {
    const doc = openApiDocument(routes) as { paths: Record<string, Record<string, Operation>> };
    for (const r of routes) {
      const op = doc.paths[`/${r.spec.route}`]?.[r.spec.method.toLowerCase()];
      expect(op?.operationId, r.name).toBe(r.name);
      const statuses = new Set([...Object.keys(r.spec.responses), ...r.problems.map((c) => String(PROBLEM_CODES[c].status))]);
      expect(Object.keys(op?.responses ?? {}).sort(), r.name).toEqual([...statuses].sort());
      for (const code of r.problems) {
        const answer = op?.responses[String(PROBLEM_CODES[code].status)];
        expect(answer?.description, `${r.name} ${code}`).toContain(`\`${code}\``);
        expect(answer?.content, `${r.name} ${code}`).toEqual({
          'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
        });
      }
    }
  });

  it('labels each route with the key it really needs (hole 13): admin routes the admin key, anonymous none', () => {
    const doc = openApiDocument(routes) as {
      paths: Record<string, Record<string, Operation & { security: unknown }>>;
      components: { securitySchemes: Record<string, { in: string; name: string }> };
    };
    const needs = { anonymous: [], function: ['functionKey', 'functionKeyHeader'], admin: ['adminKey', 'adminKeyHeader'] };
    for (const r of routes) {
      const op = doc.paths[`/${r.spec.route}`]?.[r.spec.method.toLowerCase()];
      expect(op?.security, r.name).toEqual(needs[r.spec.authLevel].map((scheme) => ({ [scheme]: [] })));
    }
    expect(routes.filter((r) => r.spec.authLevel === 'admin').length).toBeGreaterThan(0);
    expect(doc.components.securitySchemes.adminKey).toMatchObject({ in: 'query', name: 'code' });
    expect(doc.components.securitySchemes.adminKeyHeader).toMatchObject({ in: 'header', name: 'x-functions-key' });
  });

  // Was a gap: /api/lineage listed 400, 404 and 409 by hand, not the 401, 403 and 503 the wrapper answers.
  it('lists what the lookups raise: lineage 400/401/403/404/409/500/503, requests 404/410, gate 422', () => {
    const statuses = (name: string) => routes.find((r) => r.name === name)?.problems.map((c) => PROBLEM_CODES[c].status);
    expect(new Set(statuses('lineage'))).toEqual(new Set([400, 401, 403, 404, 409, 500, 503]));
    expect(statuses('requests')).toEqual(expect.arrayContaining([404, 410]));
    expect(statuses('gate')).toEqual(expect.arrayContaining([400, 404, 409, 422]));
    expect(statuses('complianceLatest')).toEqual(expect.arrayContaining([401, 403, 404]));
  });
});

describe('all-workspaces routes', () => {
  const context = () => new InvocationContext({ functionName: 'test', invocationId: 'i' });
  const as = (roles: string[]) =>
    Buffer.from(JSON.stringify({ auth_typ: 'aad', role_typ: 'roles', claims: roles.map((val) => ({ typ: 'roles', val })) })).toString(
      'base64',
    );

  it('refuse a role limited to some workspaces with 403 naming the role, before touching a store', async () => {
    // App Service authentication in front (else the header is not trusted), and the suffix mapped to a workspace.
    vi.stubEnv('WEBSITE_AUTH_ENABLED', 'True');
    vi.stubEnv(
      'ROLE_WORKSPACES',
      'ws-credit=/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws-credit',
    );
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    const flagged = routes.filter((r) => r.spec.allWorkspaces);
    expect(flagged.map((r) => r.name).sort()).toEqual([
      'complianceHoldsDelete',
      'complianceHoldsList',
      'complianceHoldsPut',
      'complianceLatest',
      'complianceRun',
      'complianceTrend',
      'identities',
      'operationStatus',
      'replay',
      'sequenceEventsRun',
    ]);
    // Behind App Service authentication (only then is the principal trusted), ws-credit naming a workspace.
    const saved = { ...process.env };
    process.env.WEBSITE_AUTH_ENABLED = 'True';
    process.env.ROLE_WORKSPACES = `ws-credit=/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws-credit`;
    const id = '00000000-0000-4000-8000-000000000001';
    for (const r of flagged) {
      const url = `http://h/api/${r.spec.route.replace('{holdId}', 'case-1').replace('{hash}', '0123456789abcdef01234567').replace('{id}', id)}`;
      const principal = as([`Lineage.Admin.ws-credit`]);
      const res = await r.handler(
        new HttpRequest({
          method: r.spec.method,
          url,
          headers: { 'x-ms-client-principal': principal },
          params: { holdId: 'case-1', hash: '0123456789abcdef01234567', id },
        }),
        context(),
      );
      expect(res.status, r.name).toBe(403);
      const body = res.jsonBody as { code: string; detail: string };
      expect(body.code).toBe('forbidden');
      expect(body.detail).toMatch(/every workspace/);
      expect(body.detail).toContain(r.spec.role === 'auditor' ? 'Lineage.Auditor' : 'Lineage.Admin');
    }
    process.env = saved;
  });
});

interface Operation {
  operationId: string;
  responses: Record<string, { description: string; content?: unknown }>;
}
