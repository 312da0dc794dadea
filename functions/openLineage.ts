import { z } from 'zod';
import { rawRoute } from '../shared/api/route.js';
import { getServices } from '../shared/composition.js';
import { isUnresolvedKeyVaultReference } from '../shared/config.js';
import { DomainError } from '../shared/errors.js';
import { json, problem } from '../shared/http.js';
import { apiKeyFrom, keyMatches, MAX_OPENLINEAGE_BODY, readJsonBody } from '../shared/api/openLineageHttp.js';
import { captureOpenLineage } from '../shared/usecases/captureOpenLineage.js';

const outcomeSchema = z.object({
  index: z.number(),
  status: z.enum(['projected', 'dead-lettered', 'ignored']),
  hash: z.string(),
  eventType: z.string().optional(),
  duplicate: z.boolean(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  notes: z.array(z.string()).optional(),
});

/**
 * The OpenLineage HTTP transport's endpoint, at the path Marquez serves it, so a client's transport
 * `url` is the function app and its default `endpoint` (api/v1/lineage) is this route. The
 * Functions host reads keys only from `code=` and `x-functions-key`, while the transport's
 * `api_key` auth sends `Authorization: Bearer KEY`; so the host lets the request through
 * (anonymous) and the route checks the key itself, in any of the three places.
 */
export const openLineageRoute = rawRoute(
  {
    name: 'openLineage',
    method: 'POST',
    route: 'v1/lineage',
    summary: 'Receive OpenLineage events (the OpenLineage HTTP transport, as Marquez serves it)',
    description: `A RunEvent, DatasetEvent or JobEvent of OpenLineage spec 2-0-2, or an array of them (at most ${MAX_OPENLINEAGE_BODY / 1024 / 1024} MiB), validated against the spec's JSON Schema. Each event is logged raw and projected into the graph: jobs and runs become job nodes, the parent run facet links runs, datasets join Azure ML data assets and storage by URI; every facet is kept. The key is OPENLINEAGE_API_KEY, sent as \`Authorization: Bearer KEY\` (the transport's \`api_key\` auth), \`x-functions-key\` or \`code=\`. 201 when every event landed; 400 naming the fields of each event that did not (those are dead-lettered, replayable; the others landed).`,
    tags: ['capture'],
    authLevel: 'anonymous',
    responses: {
      201: {
        description: 'Every event was logged and projected',
        schema: z.object({
          received: z.number(),
          projected: z.number(),
          deadLettered: z.number(),
          duplicates: z.number(),
          events: z.array(outcomeSchema),
        }),
      },
    },
    problems: ['invalid-request', 'unauthorized', 'payload-too-large', 'store-unavailable', 'not-configured'],
  },
  async (request, context) => {
    const services = await getServices();
    const key = services.settings.OPENLINEAGE_API_KEY;
    if (!key || isUnresolvedKeyVaultReference(key))
      return problem(
        new DomainError('not-configured', 'Set OPENLINEAGE_API_KEY (a Key Vault reference in Azure) to accept OpenLineage events.'),
      );
    if (!keyMatches(apiKeyFrom(request), key))
      return problem(
        new DomainError('unauthorized', 'Send the key as Authorization: Bearer KEY (OpenLineage api_key auth), x-functions-key or code=.'),
      );
    const body = await readJsonBody(request);
    const report = await captureOpenLineage(services.capture, body);
    const refused = report.events.filter((e) => e.status === 'dead-lettered');
    const single = !Array.isArray(body);
    for (const e of refused) context.warn(`openLineage: event ${e.index} dead-lettered (${e.hash})`);
    if (refused.length === 0) return json(report, 201);
    const errors = refused.flatMap((e) =>
      (e.issues ?? []).map((i) => ({ parameter: single ? i.path : `[${e.index}].${i.path}`, message: i.message })),
    );
    throw new DomainError(
      'invalid-request',
      `${refused.length} of ${report.received} OpenLineage event(s) do not match the spec (2-0-2) and were dead-lettered: ${errors
        .slice(0, 10)
        .map((e) => `${e.parameter}: ${e.message}`)
        .join('; ')}`,
      { errors, ...report },
    );
  },
);
