import { z } from 'zod';
import { route } from '../shared/api/route.js';
import { eventEvidence } from '../shared/usecases/proveEvents.js';

const base64 = z.string();

export const eventByHashRoute = route(
  {
    name: 'eventByHash',
    method: 'GET',
    route: 'events/{hash}',
    summary: 'A raw event as stored, with its inclusion proof in the evidence log',
    description:
      "`hash` is the event's content hash (`sha256:<hex>` or the hex alone), as evidence and provenance cite it. The answer holds the body as stored and the canonical bytes it hashes, its leaf index and RFC 9162 inclusion proof, and the signed checkpoint the proof is against (`status: pending` until the sequencer ran). Auditors and admins only.",
    tags: ['audit'],
    authLevel: 'function',
    role: 'auditor',
    params: z.object({ hash: z.string().regex(/^(sha256:)?[0-9a-fA-F]{64}$/, 'expected sha256:<64 hex digits>') }),
    responses: {
      200: {
        description: 'The event, its leaf and proof',
        schema: z.object({
          hash: z.string(),
          status: z.enum(['sequenced', 'pending']),
          event: z
            .object({
              channel: z.string(),
              receivedAt: z.string(),
              eventId: z.string().optional(),
              eventType: z.string().optional(),
              eventSource: z.string().optional(),
              eventTime: z.string().optional(),
            })
            .nullable(),
          body: z.unknown(),
          canonicalBody: z.string().nullable(),
          bodyMatchesHash: z.boolean().nullable(),
          purged: z.object({ purgedAt: z.string(), policy: z.string() }).nullable(),
          leafIndex: z.number().int().nullable(),
          leafHash: base64.nullable(),
          inclusionProof: z.array(base64).nullable(),
          checkpoint: z.string().nullable(),
          treeSize: z.number().int().nullable(),
        }),
      },
    },
    problems: ['not-found'],
  },
  ({ params, services, scope }) => eventEvidence({ tlog: services.tlog.store, eventLog: services.eventLog }, params.hash, scope),
);
