import { z } from 'zod';
import { principalFrom, requireRole } from '../shared/access.js';
import { response, route, workspaceParam } from '../shared/api/route.js';
import { nodeSchema } from '../shared/api/schemas.js';
import { verifyPipelineSignature } from '../shared/chatops/signature.js';
import { DomainError } from '../shared/errors.js';
import { recordApproval } from '../shared/usecases/approvals.js';

const approvalBody = z
  .object({
    model: z.string().trim().min(1).max(2048).describe('the model version: ARM id, azureml:NAME:VERSION (with workspace), registry URI'),
    workspace: workspaceParam,
    decision: z.enum(['approved', 'rejected']),
    approver: z
      .union([
        z.string().trim().min(1).max(320),
        z.object({ name: z.string().max(320).optional(), email: z.email().optional(), objectId: z.uuid().optional() }).strict(),
      ])
      .optional()
      .describe('who decided: a name or e-mail (stored encrypted, answered as its hash) or {name, email, objectId}'),
    at: z.iso.datetime({ offset: true }).optional().describe('when it was decided; default now'),
    ticket: z.string().trim().min(1).max(500).optional(),
    link: z.url().max(2048).optional().describe('the pipeline run or change record'),
    source: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,63}$/)
      .optional()
      .describe('github-actions, azure-devops, …; default pipeline'),
    id: z
      .string()
      .regex(/^[\w.:-]{1,200}$/)
      .optional()
      .describe('unique at the source (run id and attempt): posting the same decision again records it once'),
  })
  .strict();

export const approvalsRoute = route(
  {
    name: 'approvals',
    method: 'POST',
    route: 'approvals',
    summary: 'Record an approval decision from a CI/CD pipeline',
    description:
      'A GitHub Actions environment approval or an Azure DevOps approval step posts what it decided. The decision is logged raw as evidence and shows as an approval node in the model version’s lineage, diff, gate and evidence. Needs the function key and, behind App Service authentication, Lineage.Approver or Lineage.Admin; or a signature (X-Lineage-Signature: sha256=HMAC(APPROVAL_SIGNING_SECRET, "{X-Lineage-Timestamp}.{body}")) in place of the role.',
    tags: ['approvals'],
    authLevel: 'function',
    body: approvalBody,
    responses: {
      201: {
        description: 'Recorded (or already recorded: `duplicate`)',
        schema: z.object({ approval: nodeSchema, model: nodeSchema, hash: z.string(), duplicate: z.boolean() }),
      },
    },
    problems: ['unauthorized', 'forbidden', 'invalid-ref', 'not-found', 'ambiguous-ref'],
  },
  async ({ body, rawBody, request, services, context }) => {
    const signature = request.headers.get('x-lineage-signature');
    let submittedBy: { via: 'entra' | 'key' | 'signature'; name?: string };
    let scope: Set<string> | null = null;
    if (signature !== null) {
      const secret = services.settings.APPROVAL_SIGNING_SECRET;
      if (!secret) throw new DomainError('unauthorized', 'Signed approvals are not accepted: APPROVAL_SIGNING_SECRET is not set.');
      const verdict = verifyPipelineSignature({
        secret,
        signature,
        timestamp: request.headers.get('x-lineage-timestamp'),
        body: Buffer.from(rawBody ?? '', 'utf8'),
      });
      if (!verdict.ok) throw new DomainError('unauthorized', verdict.reason);
      submittedBy = { via: 'signature' };
    } else {
      const principal = principalFrom(request.headers);
      scope = requireRole(principal, 'approver');
      submittedBy = principal.name ? { via: principal.via, name: principal.name } : { via: principal.via };
    }
    const answer = await recordApproval(services.capture, body, submittedBy, scope);
    context.log(`approval ${answer.duplicate ? 'already recorded' : 'recorded'} for ${answer.model.label}: ${body.decision}`);
    return response({ status: 201, jsonBody: answer });
  },
);
