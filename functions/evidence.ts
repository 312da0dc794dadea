import { z } from 'zod';
import { refParam, response, route, workspaceParam } from '../shared/api/route.js';
import {
  EVIDENCE_FORMATS,
  evidenceRecord,
  proveRecord,
  renderJson,
  renderMarkdown,
  renderOpenLineage,
  renderPack,
  renderProv,
} from '../shared/usecases/evidence.js';

export const evidenceRoute = route(
  {
    name: 'evidence',
    method: 'GET',
    route: 'evidence',
    summary: 'The evidence package of a model version (Q8)',
    description:
      'The upstream record as our JSON, OpenLineage RunEvents, W3C PROV-JSON or a Markdown report, with the raw event behind each fact: its content hash, its body as stored, its inclusion proof in the evidence log and the signed checkpoint. `format=pack` answers the evidence pack alone, which `npm run verify -- pack.json --key KEY` checks offline (404 while none of the events is sequenced). Auditors and admins only.',
    tags: ['audit'],
    authLevel: 'function',
    role: 'auditor',
    query: z.object({ ref: refParam, workspace: workspaceParam, format: z.enum(EVIDENCE_FORMATS).default('json') }),
    responses: { 200: { description: 'The evidence (JSON, or text/markdown for format=markdown)' } },
    // invalid-ref also when the reference names something other than a model version.
    problems: ['invalid-ref', 'not-found', 'ambiguous-ref'],
  },
  async ({ query, services, scope }) => {
    const record = await proveRecord(await evidenceRecord(services.graph, { ...query, scope }), {
      tlog: services.tlog.store,
      eventLog: services.eventLog,
    });
    const file = `evidence-${record.model.label.replace(/[^\w.-]+/g, '_')}`;
    switch (query.format) {
      case 'markdown':
        return response({
          status: 200,
          body: renderMarkdown(record),
          headers: { 'content-type': 'text/markdown; charset=utf-8', 'content-disposition': `inline; filename="${file}.md"` },
        });
      case 'pack':
        return response({
          status: 200,
          jsonBody: renderPack(record),
          headers: { 'content-type': 'application/json; charset=utf-8', 'content-disposition': `attachment; filename="${file}.pack.json"` },
        });
      case 'openlineage':
        return renderOpenLineage(record);
      case 'prov':
        return response({ status: 200, jsonBody: renderProv(record), headers: { 'content-type': 'application/json; charset=utf-8' } });
      default:
        return renderJson(record);
    }
  },
);
