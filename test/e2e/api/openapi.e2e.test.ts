import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
// The app's one list of functions: the route contracts are the HTTP ones among it.
import { FUNCTIONS } from '../../../functions/index.js';
import { PROBLEM_CODES } from '../../../shared/errors.js';
import { expectOk, startApi, type Api } from './harness.js';

/** GET /api/openapi.json: the API described from the same zod contracts that validate requests. */
const HTTP = FUNCTIONS.flatMap((f) => (f.kind === 'http' ? [f] : []));
const ROUTES = HTTP.map((f) => f.spec);
let api: Api;
let doc: OpenApi;
beforeAll(async () => {
  api = await startApi();
  doc = expectOk(await api.get('/api/openapi.json', {}, { key: 'function' }), openApiShape);
});
afterAll(async () => {
  await api?.stop();
});

const parameter = z.object({
  name: z.string(),
  in: z.enum(['query', 'path', 'header', 'cookie']),
  required: z.boolean(),
  description: z.string().optional(),
  schema: z.record(z.string(), z.unknown()),
});
const operation = z.object({
  operationId: z.string(),
  summary: z.string().min(1),
  description: z.string(),
  tags: z.array(z.string()).min(1),
  parameters: z.array(parameter),
  requestBody: z
    .object({ content: z.record(z.string(), z.object({ schema: z.record(z.string(), z.unknown()) })) })
    .loose()
    .optional(),
  responses: z.record(
    z.string(),
    z.object({
      description: z.string(),
      content: z.record(z.string(), z.object({ schema: z.record(z.string(), z.unknown()) })).optional(),
    }),
  ),
  security: z.array(z.record(z.string(), z.array(z.string()))),
});
const openApiShape = z.object({
  openapi: z.literal('3.1.0'),
  info: z.object({ title: z.string(), version: z.string() }).loose(),
  servers: z.array(z.object({ url: z.string() })),
  paths: z.record(z.string(), z.record(z.string(), operation)),
  components: z.object({
    schemas: z.record(z.string(), z.record(z.string(), z.unknown())),
    securitySchemes: z.record(z.string(), z.record(z.string(), z.unknown())),
  }),
});
type OpenApi = z.infer<typeof openApiShape>;
type Operation = z.infer<typeof operation>;

function operations(d: OpenApi): Array<{ path: string; method: string; op: Operation }> {
  return Object.entries(d.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );
}

/** The HTTP functions the host registered, as it lists them when it starts: `name: [GET] http://…/api/ROUTE`. */
function registeredHttpFunctions(): Array<{ name: string; method: string; path: string }> {
  const out: Array<{ name: string; method: string; path: string }> = [];
  for (const m of api.host.output().matchAll(/^\s+(\w+): \[([A-Z,]+)\] http:\/\/127\.0\.0\.1:\d+\/api\/(\S+)$/gm)) {
    for (const method of (m[2] as string).split(',')) out.push({ name: m[1] as string, method, path: `/${m[3] as string}` });
  }
  return out;
}

function refsIn(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, into));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') into.add(v);
      else refsIn(v, into);
    }
  }
  return into;
}

describe('happy', () => {
  it('is an OpenAPI 3.1 document with function-key security schemes, served under /api', () => {
    expect(doc.servers).toEqual([{ url: '/api' }]);
    expect(doc.components.securitySchemes).toMatchObject({
      functionKey: { type: 'apiKey', in: 'query', name: 'code' },
      functionKeyHeader: { type: 'apiKey', in: 'header', name: 'x-functions-key' },
    });
  });

  it('lists every route module with the path and method the host registered for it', () => {
    const registered = registeredHttpFunctions();
    const modules = ['diff', 'evidence', 'gate', 'health', 'impact', 'lineage', 'lineageAsOf', 'openapi', 'replay', 'requests', 'search'];
    expect(registered.map((f) => f.name)).toEqual(expect.arrayContaining(modules));
    const published = new Set(operations(doc).map((o) => `${o.method} ${o.path} ${o.op.operationId}`));
    for (const f of registered.filter((r) => modules.includes(r.name)))
      expect(published.has(`${f.method} ${f.path} ${f.name}`), f.name).toBe(true);
  });

  it('publishes exactly the HTTP functions the host serves: none missing, none that no function serves', () => {
    const published = operations(doc)
      .map((o) => `${o.method} ${o.path} ${o.op.operationId}`)
      .sort();
    expect(published).toEqual(
      registeredHttpFunctions()
        .map((f) => `${f.method} ${f.path} ${f.name}`)
        .sort(),
    );
  });

  it('publishes every route contract with its method, security and role', () => {
    expect(ROUTES.map((r) => r.name).sort()).toEqual(
      operations(doc)
        .map((o) => o.op.operationId)
        .sort(),
    );
    for (const spec of ROUTES) {
      const op = doc.paths[`/${spec.route}`]?.[spec.method.toLowerCase()];
      expect(op, spec.name).toBeDefined();
      expect(op?.security, spec.name).toEqual(
        { anonymous: [], function: [{ functionKey: [] }, { functionKeyHeader: [] }], admin: [{ adminKey: [] }, { adminKeyHeader: [] }] }[
          spec.authLevel
        ],
      );
      if (spec.role) expect(op?.description, spec.name).toMatch(new RegExp(`Lineage\\.${spec.role}`, 'i'));
    }
  });

  it('publishes the problem answers derived for each route: lineage has its 401, 403 and 503', () => {
    for (const { spec, problems } of HTTP) {
      const responses = doc.paths[`/${spec.route}`]?.[spec.method.toLowerCase()]?.responses ?? {};
      for (const code of problems)
        expect(responses[String(PROBLEM_CODES[code].status)]?.description, `${spec.name} ${code}`).toContain(code);
    }
    expect(Object.keys(doc.paths['/lineage']?.get?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '409', '500', '503']),
    );
  });

  it('lists every query and path parameter the zod schemas accept, required exactly when the schema requires it', () => {
    for (const spec of ROUTES) {
      const op = doc.paths[`/${spec.route}`]?.[spec.method.toLowerCase()] as Operation;
      for (const where of ['query', 'path'] as const) {
        const shape = (where === 'query' ? spec.query?.shape : spec.params?.shape) ?? {};
        const listed = op.parameters.filter((p) => p.in === where);
        expect(listed.map((p) => p.name).sort(), `${spec.name} ${where}`).toEqual(Object.keys(shape).sort());
        for (const p of listed) {
          const field = shape[p.name] as z.ZodType;
          const required = where === 'path' || !field.safeParse(undefined).success;
          expect(p.required, `${spec.name} ${where} ${p.name}`).toBe(required);
        }
      }
      // Path templates name exactly the path parameters.
      const templated = [...`/${spec.route}`.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(templated.sort(), spec.name).toEqual(Object.keys(spec.params?.shape ?? {}).sort());
    }
  });

  it('publishes the allowed values of enumerated parameters as the schemas accept them', () => {
    const param = (path: string, name: string) => doc.paths[path]?.get?.parameters.find((p) => p.name === name)?.schema;
    expect(param('/lineage', 'direction')).toMatchObject({ enum: ['upstream', 'downstream', 'both'], default: 'upstream' });
    expect(param('/evidence', 'format')).toMatchObject({ enum: ['json', 'openlineage', 'prov', 'markdown', 'pack'], default: 'json' });
    expect(param('/search', 'limit')).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 20 });
    expect(param('/lineage', 'timeBudgetMs')).toMatchObject({ type: 'integer', minimum: 50, maximum: 30000 });
    expect(param('/search', 'kind')?.enum).toEqual(expect.arrayContaining(['model', 'data', 'job', 'deployment', 'endpoint', 'storage']));
  });

  it('describes the replay body: events and deadLetters, booleans defaulting to true, nothing else', () => {
    const body = doc.paths['/replay']?.post?.requestBody?.content['application/json']?.schema;
    expect(body).toMatchObject({
      type: 'object',
      properties: { events: { type: 'boolean', default: true }, deadLetters: { type: 'boolean', default: true } },
      additionalProperties: false,
    });
    expect(Object.keys(body?.properties ?? {}).sort()).toEqual(['deadLetters', 'events']);
  });

  it('every $ref resolves to a component, and every component is referenced', () => {
    const refs = refsIn(doc);
    expect(refs.size).toBeGreaterThan(0);
    for (const ref of refs) {
      const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
      expect(m, ref).not.toBeNull();
      expect(doc.components.schemas[m?.[1] ?? ''], ref).toBeDefined();
    }
    for (const name of Object.keys(doc.components.schemas)) expect(refs.has(`#/components/schemas/${name}`), name).toBe(true);
  });

  it('answers refer to the answer schemas, and errors to Problem as application/problem+json', () => {
    const answer: Record<string, string> = {
      '/lineage': 'LineageAnswer',
      '/lineage/as-of': 'AsOfAnswer',
      '/requests/{requestId}': 'RequestAnswer',
      '/impact': 'ImpactAnswer',
      '/diff': 'DiffAnswer',
      '/gate': 'GateAnswer',
      '/search': 'SearchAnswer',
    };
    for (const [path, component] of Object.entries(answer)) {
      expect(doc.paths[path]?.get?.responses['200']?.content?.['application/json']?.schema, path).toEqual({
        $ref: `#/components/schemas/${component}`,
      });
    }
    for (const { path, op } of operations(doc)) {
      for (const [status, r] of Object.entries(op.responses)) {
        if (Number(status) < 400 || !r.content) continue;
        expect(r.content, `${path} ${status}`).toEqual({
          'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
        });
      }
    }
    expect(doc.components.schemas.Node).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['id', 'kind', 'key', 'label', 'provenance']),
    });
  });

  // Regression guard (was a bug): gate, evidence and requests validate their input and answer 400 problems (invalid-request,
  // invalid-ref), but their contracts publish no 400 response (functions/gate.ts:30,
  // functions/evidence.ts:18-22, functions/requests.ts:18), so clients generated from this
  // document do not expect the answer a CI gate most needs to handle.
  it('every route that validates a query, path or body documents its 400 problem answer', () => {
    const missing = ROUTES.filter((r) => r.query || r.params || r.body)
      .filter((r) => !doc.paths[`/${r.route}`]?.[r.method.toLowerCase()]?.responses['400'])
      .map((r) => r.name);
    expect(missing).toEqual([]);
  });
});

describe('errors', () => {
  it('only GET is served (405)', async () => {
    const res = await api.post('/api/openapi.json', '{}', { key: 'function' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });
});

describe('security', () => {
  it('needs a function key like every route but health and chat-ops, and is the same document with any valid key', async () => {
    expect((await api.get('/api/openapi.json', {}, { key: 'none' })).status).toBe(401);
    expect((await api.get('/api/openapi.json', {}, { key: { value: 'wrong' } })).status).toBe(401);
    expect(expectOk(await api.get('/api/openapi.json', {}, { key: 'admin' }), openApiShape)).toEqual(doc);
  });
});
