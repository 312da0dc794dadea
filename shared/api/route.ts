import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { principalFrom, requireRole, type Role } from '../access.js';
import { getServices, type Services } from '../composition.js';
import { DomainError, PROBLEM_CODES, type ProblemCode } from '../errors.js';
import { json, problem } from '../http.js';

/**
 * One declaration per HTTP route: `route(spec, handler)` records the contract the OpenAPI document
 * publishes and yields the function functions/index.ts registers, so the two cannot drift. The
 * zod schemas that parse the input are the ones published; the handler's result is typed against
 * the 200 schema; the error answers are derived from the problem codes the wrapper produces plus
 * those the spec declares for its use case.
 */
export interface RouteSpec {
  /** The function's name in Azure and the operationId: a public contract, never renamed. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Functions route template, below /api. */
  route: string;
  summary: string;
  description: string;
  tags: string[];
  authLevel: 'anonymous' | 'function' | 'admin';
  /** App role needed: from Entra when App Service authentication sits in front, else KEY_ONLY_ROLE (admin routes: the admin key). */
  role?: Role;
  /** The route acts on every workspace: a role limited to some workspaces gets 403. Needs `role`. */
  allWorkspaces?: true;
  query?: z.ZodObject;
  params?: z.ZodObject;
  body?: z.ZodType;
  /**
   * Success answers. The 200 schema types what the handler returns; other statuses (202, 204,
   * redirects) and non-JSON answers are returned with `response()`.
   */
  responses: Partial<Record<SuccessStatus, AnswerDoc>>;
  /** Problem codes the use case raises; the wrapper's own are added by `problemsOf`. */
  problems?: ProblemCode[];
}

export type SuccessStatus = 200 | 201 | 202 | 204 | 301 | 302 | 303 | 307 | 308;

export interface AnswerDoc {
  description: string;
  /** JSON body schema (content type application/json unless `contentType` says otherwise). */
  schema?: z.ZodType;
  contentType?: string;
}

export interface RouteInput<S extends RouteSpec> {
  query: S['query'] extends z.ZodObject ? z.output<S['query']> : Record<string, never>;
  params: S['params'] extends z.ZodObject ? z.output<S['params']> : Record<string, never>;
  body: S['body'] extends z.ZodType ? z.output<S['body']> : undefined;
  /** Workspaces the caller may see with the route's role; null = all. */
  scope: Set<string> | null;
  services: Services;
  request: HttpRequest;
  context: InvocationContext;
}

const RESPONSE: unique symbol = Symbol('http-response');
/** An answer built with `response()`: sent as it is. */
export type HttpAnswer = HttpResponseInit & { readonly [RESPONSE]: true };

/**
 * What a handler may return: a body matching the 200 schema (its input side: what a client
 * parsing the answer with that schema accepts), or a `response()`. Without a 200 answer, only
 * `response()`; with a 200 answer but no schema (not JSON, or several formats), anything.
 */
export type RouteResult<S extends RouteSpec> =
  | (S['responses'] extends { 200: { schema: infer T extends z.ZodType } }
      ? z.input<T>
      : S['responses'] extends { 200: AnswerDoc }
        ? unknown
        : never)
  | HttpAnswer;

export type HttpHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/** A declared HTTP function: its contract, every problem code it can answer with, and its handler. */
export interface HttpRoute<S extends RouteSpec = RouteSpec> {
  kind: 'http';
  name: string;
  spec: S;
  problems: ProblemCode[];
  handler: HttpHandler;
}

const MAX_URL = 8 * 1024;
const MAX_BODY = 64 * 1024;

/** `Lineage.Admin` for `admin`: the app role's value as Entra ID shows it. */
export function appRole(role: Role): string {
  return `Lineage.${role[0]?.toUpperCase()}${role.slice(1)}`;
}

/**
 * The problem codes a route can answer with: its use case's (`spec.problems`) and the wrapper's.
 * The wrapper checks the URL's length on every route and parses query, path and body (400), caps
 * the body (413), reads the principal and checks the role (401, 403), and maps store outages
 * (503) and anything unexpected (500). A raw route does none of that but the last.
 */
export function problemsOf(spec: RouteSpec, raw = false): ProblemCode[] {
  const codes = new Set<ProblemCode>(spec.problems);
  if (!raw) {
    codes.add('invalid-request');
    if (spec.body) codes.add('payload-too-large');
    if (spec.role) codes.add('unauthorized').add('forbidden');
    codes.add('store-unavailable');
  }
  codes.add('internal');
  return [...codes].sort((a, b) => PROBLEM_CODES[a].status - PROBLEM_CODES[b].status || a.localeCompare(b));
}

function issues(error: z.ZodError, where: string): DomainError {
  const errors = error.issues.map((i) => ({ parameter: i.path.join('.') || where, message: i.message }));
  return new DomainError('invalid-request', errors.map((e) => `${e.parameter}: ${e.message}`).join('; '), { errors });
}

async function parseBody(schema: z.ZodType, request: HttpRequest): Promise<unknown> {
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY) throw new DomainError('payload-too-large', `the body is larger than ${MAX_BODY} bytes`);
  let parsedJson: unknown = {};
  if (text.trim().length > 0) {
    try {
      parsedJson = JSON.parse(text);
    } catch {
      throw new DomainError('invalid-request', 'the body must be JSON');
    }
  }
  const parsed = schema.safeParse(parsedJson);
  if (!parsed.success) throw issues(parsed.error, 'body');
  return parsed.data;
}

/** The workspaces the caller may see with the route's role, after the all-workspaces check. */
function scopeFor(spec: RouteSpec, request: HttpRequest): Set<string> | null {
  if (!spec.role) return null;
  const scope = requireRole(principalFrom(request.headers, { authLevel: spec.authLevel }), spec.role);
  if (spec.allWorkspaces && scope !== null)
    throw new DomainError(
      'forbidden',
      `${spec.method} /api/${spec.route} covers every workspace; it needs ${appRole(spec.role)} without a workspace limit.`,
    );
  return scope;
}

/** Declares a route whose handler gets parsed input and returns its answer. */
export function route<S extends RouteSpec>(spec: S, handle: (input: RouteInput<S>) => Promise<RouteResult<S>>): HttpRoute<S> {
  return declare(spec, false, async (request, context) => {
    if (request.url.length > MAX_URL) throw new DomainError('invalid-request', `the URL is longer than ${MAX_URL} characters`);
    const scope = scopeFor(spec, request);
    const rawQuery: Record<string, string> = {};
    for (const [k, v] of request.query.entries()) if (k !== 'code') rawQuery[k] = v;
    const query = spec.query ? spec.query.safeParse(rawQuery) : { success: true as const, data: {} };
    if (!query.success) throw issues(query.error, 'query');
    const params = spec.params ? spec.params.safeParse(request.params) : { success: true as const, data: {} };
    if (!params.success) throw issues(params.error, 'path');
    const body = spec.body ? await parseBody(spec.body, request) : undefined;
    const services = await getServices();
    const result = await handle({ query: query.data, params: params.data, body, scope, services, request, context } as RouteInput<S>);
    return isResponse(result) ? result : json(result);
  });
}

/**
 * Declares a route that reads the request itself: signed webhooks that verify the raw bytes,
 * liveness that must answer without the stores. Only unexpected errors are mapped (500); the spec
 * declares every other problem it answers with.
 */
export function rawRoute<S extends RouteSpec>(spec: S, handle: HttpHandler): HttpRoute<S> {
  return declare(spec, true, handle);
}

function declare<S extends RouteSpec>(spec: S, raw: boolean, handle: HttpHandler): HttpRoute<S> {
  if (spec.allWorkspaces && !spec.role) throw new Error(`${spec.name}: allWorkspaces needs a role`);
  return {
    kind: 'http',
    name: spec.name,
    spec,
    problems: problemsOf(spec, raw),
    handler: async (request, context) => {
      try {
        return await handle(request, context);
      } catch (error) {
        if (!(error instanceof DomainError))
          context.error(`${spec.name} failed: ${error instanceof Error ? error.message : String(error)}`);
        return problem(error);
      }
    },
  };
}

function isResponse(value: unknown): value is HttpAnswer {
  return typeof value === 'object' && value !== null && RESPONSE in value;
}

/** A non-JSON or non-200 answer from a route handler. */
export function response(init: HttpResponseInit): HttpAnswer {
  return Object.assign(init, { [RESPONSE]: true as const });
}

/** Common query parameters. */
export const refParam = z
  .string()
  .trim()
  .min(1, 'required: a model, job, data, environment, code, endpoint or deployment reference')
  .max(2048);
export const workspaceParam = z.string().trim().min(1).max(1024).optional();
