import { z } from 'zod';
import { principalFrom } from '../shared/access.js';
import { route } from '../shared/api/route.js';
import { revealIdentity } from '../shared/usecases/identities.js';

export const identitiesRoute = route(
  {
    name: 'identities',
    method: 'GET',
    route: 'identities/{hash}',
    summary: 'Reveal the person behind an identity hash (auditors)',
    description:
      'Identity fields (approver, owner, created by, modified by, fields an approval rule names) are stored as `identity:HASH` with the value sealed in the identity vault. An auditor may reveal one; every reveal is logged (who, what, when, `reason`) before the answer is given, and counted in the compliance report. Readers are refused.',
    tags: ['audit'],
    authLevel: 'function',
    role: 'auditor',
    // Identities belong to no workspace: an auditor limited to some workspaces may not reveal them.
    allWorkspaces: true,
    params: z.object({ hash: z.string().regex(/^(identity:)?[0-9a-f]{24}$/, '24 hex digits, as in identity:HASH') }),
    query: z.object({
      reason: z.string().trim().min(1).max(500).optional().describe('why: a ticket or case number, logged with the reveal'),
    }),
    responses: {
      200: {
        description: 'The value, and where the reveal is logged',
        schema: z.object({
          hash: z.string(),
          value: z.string(),
          firstSeenAt: z.string(),
          revealedAt: z.string(),
          revealedBy: z.string(),
          log: z.string(),
        }),
      },
    },
    problems: ['not-found'],
  },
  async ({ params, query, request, services, context }) => {
    const answer = await revealIdentity(services.identities, services.settings.REDACTION_KEY, {
      hash: params.hash,
      principal: principalFrom(request.headers),
      reason: query.reason,
      now: new Date(),
    });
    context.log(`identity ${answer.hash} revealed by ${answer.revealedBy}, logged at ${answer.log}`);
    return answer;
  },
);
