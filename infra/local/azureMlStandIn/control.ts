import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { faultJson, faultRuleSchema, type FaultControl } from './faults.js';
import { BadRequest, readJson, send, sendError } from './http.js';
import type { SampleWorkspaceState } from './state.js';

/**
 * `/_standin/...`: the programmatic API over HTTP, so a test can drive a stand-in running in
 * another process (the quick start's). These calls are not recorded in `requests` and never
 * faulted, so REST-call counts stay those of the code under test.
 */
export interface RecordedRequest {
  method: string;
  /** Path as received (percent-encoded), without the query. */
  path: string;
  /** Query string including `?`, or ''. */
  query: string;
  /** 0 until answered. */
  status: number;
  /** Which injected fault handled it, e.g. `429`, `delay 500ms`, `delay 500ms + 503`. */
  fault?: string;
  /** Arrival time, ISO. */
  at: string;
  /** The client closed the connection before the answer was written (e.g. it timed out during a delay). */
  abandoned?: boolean;
}

export interface ControlContext {
  state: SampleWorkspaceState;
  faults: FaultControl;
  requests: RecordedRequest[];
  reset(): void;
}

const at = z.string().optional();
const schemas = {
  setTraffic: z.object({ endpoint: z.string().min(1), traffic: z.record(z.string(), z.number()), at }),
  setDefaultDeployment: z.object({ endpoint: z.string().min(1), deployment: z.string().min(1), at }),
  upsertDeployment: z.object({
    endpoint: z.string().min(1),
    name: z.string().min(1),
    model: z.string().min(1),
    environmentId: z.string().min(1),
    codeId: z.string().min(1).optional(),
    scoringScript: z.string().min(1).optional(),
    instanceType: z.string().min(1).optional(),
    instanceCount: z.number().int().min(1).optional(),
    description: z.string().optional(),
    at,
  }),
  deleteResource: z.object({ id: z.string().min(1) }),
  addModelVersion: z.object({
    name: z.string().min(1),
    version: z.string().min(1),
    jobName: z.string().min(1).nullable().optional(),
    modelUri: z.string().min(1),
    modelType: z.string().min(1).optional(),
    description: z.string().nullable().optional(),
    tags: z.record(z.string(), z.string()).optional(),
    properties: z.record(z.string(), z.string()).optional(),
    flavors: z.record(z.string(), z.unknown()).nullable().optional(),
    at,
  }),
  addJob: z.object({ name: z.string().min(1), properties: z.looseObject({ jobType: z.string().min(1) }), at }),
};

export const CONTROL_ROUTES = [
  'GET    /_standin                       this list',
  'GET    /_standin/requests              {requests: [{method, path, query, status, fault?, at, abandoned?}]}',
  'DELETE /_standin/requests              forget recorded requests',
  'GET    /_standin/faults                {faults: [...]} with remaining and hits',
  'POST   /_standin/faults                {path, flags?, method?, status?, retryAfterSeconds?, delayMs?, times?} or an array',
  'DELETE /_standin/faults                remove every fault',
  'GET    /_standin/resources             {ids: [...]} every resource served',
  'POST   /_standin/setTraffic            {endpoint, traffic, at?}',
  'POST   /_standin/setDefaultDeployment  {endpoint, deployment, at?} (batch endpoints)',
  'POST   /_standin/upsertDeployment      {endpoint, name, model, environmentId, codeId?, scoringScript?, instanceType?, instanceCount?, description?, at?}',
  'POST   /_standin/deleteResource        {id}',
  'POST   /_standin/addModelVersion       {name, version, modelUri, jobName?, modelType?, description?, tags?, properties?, flavors?, at?}',
  'POST   /_standin/addJob                {name, properties: {jobType, ...}, at?}',
  'POST   /_standin/reset                 sample resources back, faults and requests cleared',
];

const plainJson = (v: unknown) => JSON.stringify(v);

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new BadRequest(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return parsed.data;
}

export async function serveControl(ctx: ControlContext, req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const route = `${method} ${url.pathname.replace(/\/$/, '')}`;
  const ok = (body: unknown, status = 200) => send(res, status, body, {}, plainJson);
  try {
    switch (route) {
      case 'GET /_standin':
        return ok({ routes: CONTROL_ROUTES });
      case 'GET /_standin/requests':
        return ok({ requests: ctx.requests });
      case 'DELETE /_standin/requests':
        ctx.requests.length = 0;
        return ok({ requests: [] });
      case 'GET /_standin/faults':
        return ok({ faults: ctx.faults.list().map(faultJson) });
      case 'POST /_standin/faults': {
        const body = await readJson(req);
        const rules = parse(z.union([faultRuleSchema, z.array(faultRuleSchema)]), body);
        const added = (Array.isArray(rules) ? rules : [rules]).map((r) => ctx.faults.addJson(r));
        return ok({ faults: added.map(faultJson) }, 201);
      }
      case 'DELETE /_standin/faults':
        ctx.faults.clear();
        return ok({ faults: [] });
      case 'GET /_standin/resources':
        return ok({ ids: ctx.state.all().map((r) => r.id) });
      case 'POST /_standin/setTraffic': {
        const b = parse(schemas.setTraffic, await readJson(req));
        return ok(ctx.state.setTraffic(b.endpoint, b.traffic, b.at));
      }
      case 'POST /_standin/setDefaultDeployment': {
        const b = parse(schemas.setDefaultDeployment, await readJson(req));
        return ok(ctx.state.setDefaultDeployment(b.endpoint, b.deployment, b.at));
      }
      case 'POST /_standin/upsertDeployment': {
        const { endpoint, name, at: when, ...spec } = parse(schemas.upsertDeployment, await readJson(req));
        return ok(ctx.state.upsertDeployment(endpoint, name, spec, when));
      }
      case 'POST /_standin/deleteResource': {
        const b = parse(schemas.deleteResource, await readJson(req));
        if (!ctx.state.deleteResource(b.id)) return sendError(res, 404, 'ResourceNotFound', `no resource ${b.id}`);
        return ok({ deleted: b.id });
      }
      case 'POST /_standin/addModelVersion': {
        const { name, version, at: when, ...spec } = parse(schemas.addModelVersion, await readJson(req));
        return ok(ctx.state.addModelVersion(name, version, spec, when), 201);
      }
      case 'POST /_standin/addJob': {
        const b = parse(schemas.addJob, await readJson(req));
        return ok(ctx.state.addJob(b.name, b.properties, b.at), 201);
      }
      case 'POST /_standin/reset':
        ctx.reset();
        return ok({ reset: true });
      default:
        return sendError(res, 404, 'UnknownControlRoute', `${route} is not a stand-in control route; GET /_standin lists them.`);
    }
  } catch (err) {
    // Mutation helpers throw plain Errors for refused input (unknown deployment, bad traffic sum).
    const message = err instanceof Error ? err.message : String(err);
    return sendError(res, 400, 'BadRequest', message);
  }
}
