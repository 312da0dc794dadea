/**
 * The evidence pack: what an auditor checks offline with `infra/verify/verify.mjs` and the log's
 * pinned public key, trusting nothing else. JSON:
 *
 *   {
 *     "format": "aml-lineage-evidence-pack/1",
 *     "checkpoint": "<signed note: origin, size, base64 root, time, previous; blank line; signature>",
 *     "facts": [
 *       {
 *         "label": "optional: what this record supports, printed with its verdict",
 *         "hash": "sha256:<hex>",              // the event's content hash (its id)
 *         "body": "<canonical JSON text>",     // the raw event as stored (redacted as stored)
 *         "leafIndex": 17,
 *         "inclusionProof": ["<base64 hash>", ...]   // RFC 9162 PATH(leafIndex, tree of checkpoint size)
 *       },
 *       {
 *         "hash": "sha256:<hex>", "leafIndex": 18, "inclusionProof": [...],
 *         "leafHash": "<base64>",              // instead of a body, for a record purged under a policy
 *         "purged": { "purgedAt": "<RFC 3339>", "policy": "<name>" }
 *       }
 *     ]
 *   }
 *
 * A body is the UTF-8 canonical JSON (keys sorted, no whitespace) of the stored event: its SHA-256
 * is the hash, and `SHA-256(0x00 || body)` the leaf hash the proof starts from. Carrying the text
 * rather than a JSON value spares a verifier from re-canonicalising (number formats differ
 * between languages). Every proof is against the one checkpoint.
 */
export const EVIDENCE_PACK_FORMAT = 'aml-lineage-evidence-pack/1';

export interface EvidenceFact {
  label?: string;
  hash: string;
  leafIndex: number;
  inclusionProof: string[];
  body?: string;
  leafHash?: string;
  purged?: { purgedAt: string; policy: string };
}

export interface EvidencePack {
  format: typeof EVIDENCE_PACK_FORMAT;
  checkpoint: string;
  facts: EvidenceFact[];
}
