import { z } from 'zod';

/**
 * What stays in place of a record purged under a retention policy: the same id and partition, so
 * the graph's provenance hashes and request ids still resolve — to "purged on D under policy P,
 * archived at A" rather than to nothing. Tombstones never expire (`ttl: -1` overrides a container
 * default TTL in Azure).
 */
export const tombstoneSchema = z.object({
  id: z.string(),
  pk: z.string(),
  ttl: z.literal(-1),
  tombstone: z.object({
    recordKind: z.string(),
    policy: z.string(),
    purgedAt: z.string(),
    /** When the record was received or happened: what the policy was measured from. */
    recordTime: z.string().nullable(),
    /** Blob path of the archived record, inside the compliance container. */
    archivedTo: z.string(),
    /** The record's workspace where it had one (request traces), so access checks still apply. */
    workspace: z.string().nullable().default(null),
    /**
     * Raw events: base64 evidence-log leaf hash of the purged body, SHA-256(0x00 || canonical
     * bytes), so its inclusion proof and the log's consistency still verify without the body.
     */
    leafHash: z.string().optional(),
  }),
});
export type Tombstone = z.infer<typeof tombstoneSchema>;

export function isTombstone(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && 'tombstone' in raw;
}

export function parseTombstone(raw: unknown): Tombstone | undefined {
  const parsed = tombstoneSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
