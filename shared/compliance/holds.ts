import { z } from 'zod';
import { DomainError } from '../errors.js';
import { scanPii } from '../privacy/pii.js';
import { canonicalJson } from '../util/canonicalJson.js';
import { toInstant } from '../util/time.js';
import { RECORD_KINDS, type RecordKind } from './report.js';
import type { ComplianceBlobs } from '../store/complianceBlobs.js';

/**
 * Legal holds: while a hold is active, records in its scope are not purged whatever their policy
 * says. A hold names the kinds of record it covers, optionally a workspace (name or ARM id) and a
 * range of record times. Kept as one blob each under `holds/`; few and small, read once per run.
 */
export const holdIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash and underscore; at most 64');

export const holdInputSchema = z
  .object({
    /** Why records are held (case number, matter); no personal data. */
    reason: z.string().min(1).max(500),
    recordKinds: z
      .array(z.enum(RECORD_KINDS))
      .min(1)
      .default([...RECORD_KINDS]),
    workspace: z.string().min(1).max(400).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type HoldInput = z.infer<typeof holdInputSchema>;

export const holdSchema = holdInputSchema.extend({ id: holdIdSchema, createdAt: z.string() });
export type Hold = z.infer<typeof holdSchema>;

const PREFIX = 'holds/';

/** What a hold covers, as text: when it changes, the records it marked are re-evaluated. */
export function holdScope(hold: Hold): string {
  return canonicalJson({
    kinds: [...hold.recordKinds].sort(),
    workspace: hold.workspace ?? null,
    from: hold.from ?? null,
    until: hold.until ?? null,
  });
}

export function isActive(hold: Hold, now: Date): boolean {
  return hold.expiresAt === undefined || Date.parse(hold.expiresAt) > now.getTime();
}

/** Does `hold` cover a record of `kind` from `recordTime`, in a workspace described by `where`? */
export function covers(hold: Hold, kind: RecordKind, recordTime: string | null, where: string): boolean {
  if (!hold.recordKinds.includes(kind)) return false;
  if (hold.workspace) {
    const ws = hold.workspace.toLowerCase();
    const needle = ws.includes('/workspaces/') ? ws : `/workspaces/${ws}`;
    // The workspace must end there: `ws-credit` must not cover `ws-credit-2`.
    const at = where.toLowerCase().indexOf(needle);
    const next = at >= 0 ? where[at + needle.length] : undefined;
    if (at < 0 || (next !== undefined && next !== '/' && next !== '"')) return false;
  }
  // Sortable UTC instants: record times come with 3 to 9 fractional digits, `Z` or an offset.
  const t = recordTime ? toInstant(recordTime) : undefined;
  if (hold.from && !(t !== undefined && t >= (toInstant(hold.from) as string))) return false;
  if (hold.until && !(t !== undefined && t <= (toInstant(hold.until) as string))) return false;
  return true;
}

export class HoldStore {
  constructor(private readonly blobs: ComplianceBlobs) {}

  async list(): Promise<Hold[]> {
    const holds: Hold[] = [];
    for (const name of await this.blobs.list(PREFIX)) {
      const found = await this.blobs.readJson(name, holdSchema);
      if (found) holds.push(found.value);
    }
    return holds.sort((a, b) => a.id.localeCompare(b.id));
  }

  async put(id: string, input: HoldInput, now: Date): Promise<Hold> {
    if (scanPii(input.reason).length > 0)
      throw new DomainError('invalid-request', 'reason: must not contain personal data or secrets (it is kept in reports)');
    const existing = await this.blobs.readJson(`${PREFIX}${id}.json`, holdSchema);
    const hold: Hold = { ...input, id, createdAt: existing?.value.createdAt ?? now.toISOString() };
    await this.blobs.writeJson(`${PREFIX}${id}.json`, hold);
    return hold;
  }

  async remove(id: string): Promise<boolean> {
    return this.blobs.delete(`${PREFIX}${id}.json`);
  }
}
