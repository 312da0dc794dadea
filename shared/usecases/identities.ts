import type { Principal } from '../access.js';
import { DomainError } from '../errors.js';
import { identityHash } from '../privacy/identity.js';
import type { IdentityVault } from '../store/identityVault.js';

/**
 * An auditor reveals who stands behind an identity hash. The reveal is logged before the answer
 * is given (who, what, when, why), so a reveal that cannot be logged is not made; the auditor is
 * logged by hash too, and sealed like anyone else.
 */
export interface RevealAnswer {
  hash: string;
  value: string;
  firstSeenAt: string;
  revealedAt: string;
  revealedBy: string;
  /** Where the reveal is logged. */
  log: string;
}

export async function revealIdentity(
  vault: IdentityVault,
  redactionKey: string,
  input: { hash: string; principal: Principal; reason?: string; now: Date },
): Promise<RevealAnswer> {
  const hash = input.hash.replace(/^identity:/, '');
  const record = await vault.open(hash);
  if (!record) throw new DomainError('not-found', `No identity is kept under ${hash}.`);
  const name = input.principal.name;
  let by = 'function-key';
  if (name) {
    const auditor = identityHash(name, redactionKey);
    await vault.remember(new Map([[auditor, name]]));
    by = `identity:${auditor}`;
  }
  const revealedAt = input.now.toISOString();
  const log = await vault.logReveal({
    at: revealedAt,
    hash,
    by,
    via: input.principal.via,
    ...(input.reason ? { reason: input.reason } : {}),
  });
  return { hash, value: record.value, firstSeenAt: record.firstSeenAt, revealedAt, revealedBy: by, log };
}
