import { z } from 'zod';
import { PROBLEM_CODES, type ProblemCode } from '../errors.js';
import { appRole, type HttpRoute, type RouteSpec } from './route.js';
import { problemSchema } from './schemas.js';

/**
 * The OpenAPI 3.1 document of the given routes, generated from the same zod schemas they parse
 * with. Shared shapes (those with a `.meta({ id })`) become components. Error answers come from
 * each route's problem codes, one response per status naming the codes behind it.
 */
type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): { schema: JsonSchema; defs: Record<string, JsonSchema> } {
  const generated = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });
  // zod refers to shared shapes as #/$defs/ID; in OpenAPI they live under components.
  const json = JSON.parse(JSON.stringify(generated).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
  const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
  delete json.$defs;
  delete json.$schema;
  // A top-level schema with an id is itself a component: reference it.
  if (typeof json.id === 'string') {
    const id = json.id;
    delete json.id;
    return { schema: { $ref: `#/components/schemas/${id}` }, defs: { ...defs, [id]: json } };
  }
  return { schema: json, defs };
}

function byStatus(codes: readonly ProblemCode[]): Map<number, ProblemCode[]> {
  const out = new Map<number, ProblemCode[]>();
  for (const code of codes) out.set(PROBLEM_CODES[code].status, [...(out.get(PROBLEM_CODES[code].status) ?? []), code]);
  return out;
}

function parametersOf(spec: RouteSpec, components: Record<string, JsonSchema>): unknown[] {
  const out: unknown[] = [];
  for (const [where, obj] of [
    ['query', spec.query],
    ['path', spec.params],
  ] as const) {
    if (!obj) continue;
    const { schema, defs } = schemaOf(obj, 'input');
    Object.assign(components, defs);
    const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((schema.required ?? []) as string[]);
    for (const [name, s] of Object.entries(props)) {
      const { description, ...rest } = s;
      out.push({
        name,
        in: where,
        required: where === 'path' || (required.has(name) && !('default' in rest)),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  return out;
}

/** What each key level asks for: a function key is refused on admin routes, so they name the admin key. */
const SECURITY: Record<RouteSpec['authLevel'], Array<Record<string, string[]>>> = {
  anonymous: [],
  function: [{ functionKey: [] }, { functionKeyHeader: [] }],
  admin: [{ adminKey: [] }, { adminKeyHeader: [] }],
};

export function openApiDocument(routes: readonly HttpRoute[], serverUrl = '/api'): Record<string, unknown> {
  const components: Record<string, JsonSchema> = {};
  const problem = schemaOf(problemSchema, 'output');
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { spec, problems } of [...routes].sort((a, b) => a.spec.route.localeCompare(b.spec.route))) {
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(spec.responses)) {
      let content: Record<string, unknown> | undefined;
      if (r.schema) {
        const { schema, defs } = schemaOf(r.schema, 'output');
        Object.assign(components, defs);
        content = { [r.contentType ?? 'application/json']: { schema } };
      }
      responses[status] = { description: r.description, ...(content ? { content } : {}) };
    }
    for (const [status, codes] of byStatus(problems)) {
      Object.assign(components, problem.defs);
      responses[status] = {
        description: codes.map((c) => `${PROBLEM_CODES[c].title} (\`${c}\`)`).join('; '),
        content: { 'application/problem+json': { schema: problem.schema } },
      };
    }
    let requestBody: unknown;
    if (spec.body) {
      const { schema, defs } = schemaOf(spec.body, 'input');
      Object.assign(components, defs);
      requestBody = { required: false, content: { 'application/json': { schema } } };
    }
    const security = SECURITY[spec.authLevel];
    const path = `/${spec.route}`;
    paths[path] ??= {};
    paths[path][spec.method.toLowerCase()] = {
      operationId: spec.name,
      summary: spec.summary,
      description: `${spec.description}${spec.role ? `\n\nWith Microsoft Entra ID in front: app role ${appRole(spec.role)} or higher${spec.allWorkspaces ? ', without a workspace limit' : ''}.` : ''}`,
      tags: spec.tags,
      parameters: parametersOf(spec, components),
      ...(requestBody ? { requestBody } : {}),
      responses,
      security,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'aml-lineage',
      version: '0.1.0',
      description:
        'Automatic model lineage for Azure Machine Learning: where did this model come from, what changed, and what does it touch. Errors are RFC 9457 problem details.',
    },
    servers: [{ url: serverUrl }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        functionKey: { type: 'apiKey', in: 'query', name: 'code', description: 'Azure Functions function key' },
        functionKeyHeader: { type: 'apiKey', in: 'header', name: 'x-functions-key' },
        adminKey: { type: 'apiKey', in: 'query', name: 'code', description: 'Azure Functions admin (master) key' },
        adminKeyHeader: { type: 'apiKey', in: 'header', name: 'x-functions-key', description: 'Azure Functions admin (master) key' },
      },
    },
  };
}
