import { createHash, createPublicKey, verify } from 'node:crypto';
import { HASH_SIZE, type Hash } from './merkle.js';

/**
 * Signed checkpoints in the C2SP formats, so existing transparency-log tooling reads them:
 *
 * - c2sp.org/tlog-checkpoint: the note text is the origin, the tree size, the base64 root hash,
 *   then extension lines; ours are `time <RFC 3339>` and, after the first checkpoint,
 *   `previous <base64 SHA-256 of the previous signed checkpoint>`, which chains them.
 * - c2sp.org/signed-note: text, a blank line, then `— <key name> <base64(key ID || signature)>`.
 *
 * The signature type is 0x02, ECDSA over SHA-256 of the note text with a P-256 key, signature in
 * ASN.1 DER, key ID = the first four bytes of SHA-256 of the key's DER SubjectPublicKeyInfo (the
 * form transparency-dev/witness and Sigstore's Rekor use). Why not Ed25519 (type 0x01, the
 * spec's default): Azure Key Vault signs with EC P-256/P-256K/P-384/P-521 and RSA keys only,
 * and the same signature type must serve the local key file and Key Vault.
 */

export const SIGNATURE_TYPE_ECDSA = 0x02;
const EM_DASH = '\u2014';

export interface Checkpoint {
  origin: string;
  size: number;
  root: Hash;
  /** When the checkpoint was signed (RFC 3339, UTC). */
  time: string;
  /** SHA-256 of the previous signed checkpoint; absent on the first. */
  previous?: Buffer;
}

/** What signs checkpoints: a local key file or Azure Key Vault (see store/checkpointSigner.ts). */
export interface CheckpointSigner {
  /** The key name in signature lines; the log's origin. */
  readonly keyName: string;
  /** DER SubjectPublicKeyInfo of the P-256 public key. */
  publicKey(): Promise<Buffer>;
  /** ECDSA P-256 over SHA-256 of `message`, DER-encoded. */
  sign(message: Buffer): Promise<Buffer>;
}

/** What `GET /api/checkpoints/key` serves and what an auditor pins. */
export interface CheckpointPublicKey {
  keyName: string;
  /** Hex of the 4-byte key ID. */
  keyId: string;
  signatureType: 'ecdsa-p256-sha256 (signed-note type 0x02)';
  /** `<name>+<key ID hex>+<base64(0x02 || SPKI DER)>`: one string to pin, read by the verifier. */
  verifierKey: string;
  publicKeyPem: string;
}

export function checkpointText(c: Checkpoint): string {
  const lines = [c.origin, String(c.size), c.root.toString('base64'), `time ${c.time}`];
  if (c.previous) lines.push(`previous ${c.previous.toString('base64')}`);
  return `${lines.join('\n')}\n`;
}

export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.pop() !== '' || lines.length < 3) throw new Error('a checkpoint has at least three lines, each ending in a newline');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (!origin) throw new Error('the checkpoint origin is empty');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine)))
    throw new Error('the checkpoint tree size is not a decimal number');
  const root = Buffer.from(rootLine, 'base64');
  if (root.length !== HASH_SIZE || root.toString('base64') !== rootLine)
    throw new Error('the checkpoint root hash is not 32 bytes of base64');
  const ext = new Map<string, string>();
  for (const line of extensions) {
    const space = line.indexOf(' ');
    if (space > 0) ext.set(line.slice(0, space), line.slice(space + 1));
  }
  const time = ext.get('time');
  if (!time) throw new Error('the checkpoint has no time line');
  const previous = ext.get('previous');
  return { origin, size: Number(sizeLine), root, time, ...(previous ? { previous: Buffer.from(previous, 'base64') } : {}) };
}

export function keyIdOf(spki: Buffer): Buffer {
  return createHash('sha256').update(spki).digest().subarray(0, 4);
}

export function publicKeyInfo(keyName: string, spki: Buffer): CheckpointPublicKey {
  const keyId = keyIdOf(spki).toString('hex');
  return {
    keyName,
    keyId,
    signatureType: 'ecdsa-p256-sha256 (signed-note type 0x02)',
    verifierKey: `${keyName}+${keyId}+${Buffer.concat([Buffer.of(SIGNATURE_TYPE_ECDSA), spki]).toString('base64')}`,
    publicKeyPem: createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** Signs `text` into a signed note with one signature line. */
export async function signNote(text: string, signer: CheckpointSigner): Promise<string> {
  if (!text.endsWith('\n')) throw new Error('note text must end in a newline');
  const keyId = keyIdOf(await signer.publicKey());
  const signature = await signer.sign(Buffer.from(text, 'utf8'));
  return `${text}\n${EM_DASH} ${signer.keyName} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
}

export interface ParsedNote {
  text: string;
  signatures: Array<{ keyName: string; keyId: string; signature: Buffer }>;
}

export function parseNote(note: string): ParsedNote {
  // The text is separated from the signatures by the last blank line.
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Error('not a signed note: no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const signatures = note
    .slice(split + 2, -1)
    .split('\n')
    .map((line) => {
      const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
      const raw = match ? Buffer.from(match[2] as string, 'base64') : undefined;
      if (!match || !raw || raw.length <= 4) throw new Error(`not a signature line: ${line.slice(0, 80)}`);
      return { keyName: match[1] as string, keyId: raw.subarray(0, 4).toString('hex'), signature: raw.subarray(4) };
    });
  return { text, signatures };
}

export function parseVerifierKey(verifierKey: string): { keyName: string; keyId: string; spki: Buffer } {
  // Key names hold no `+`; the base64 key may.
  const [keyName, keyId, ...rest] = verifierKey.trim().split('+');
  const key = rest.join('+');
  const raw = key ? Buffer.from(key, 'base64') : undefined;
  if (!keyName || !keyId || !raw || raw[0] !== SIGNATURE_TYPE_ECDSA)
    throw new Error('not an ECDSA verifier key (<name>+<key ID>+<base64 0x02||SPKI>)');
  const spki = raw.subarray(1);
  if (keyIdOf(spki).toString('hex') !== keyId) throw new Error('the verifier key ID does not match its public key');
  return { keyName, keyId, spki };
}

/**
 * The note's text if a signature by the pinned key verifies. Signatures by other keys are
 * ignored, as the signed-note spec requires; a failing signature by the pinned key rejects.
 */
export function openNote(note: string, verifierKey: string): string {
  const key = parseVerifierKey(verifierKey);
  const parsed = parseNote(note);
  const mine = parsed.signatures.filter((s) => s.keyName === key.keyName && s.keyId === key.keyId);
  if (mine.length === 0) throw new Error(`the note has no signature by ${key.keyName}+${key.keyId}`);
  const publicKey = createPublicKey({ key: key.spki, format: 'der', type: 'spki' });
  for (const s of mine) {
    if (!verify('sha256', Buffer.from(parsed.text, 'utf8'), { key: publicKey, dsaEncoding: 'der' }, s.signature)) {
      throw new Error(`the signature by ${key.keyName}+${key.keyId} does not verify`);
    }
  }
  return parsed.text;
}

/** What chains checkpoints: SHA-256 over the whole signed note as stored. */
export function checkpointHash(note: string): Buffer {
  return createHash('sha256').update(note, 'utf8').digest();
}

/** Key Vault returns ECDSA signatures as JWS does (r || s, RFC 7518 section 3.4); notes carry DER. */
export function ieeeP1363ToDer(raw: Uint8Array): Buffer {
  if (raw.length % 2 !== 0 || raw.length === 0) throw new Error('an ECDSA signature is r || s of equal lengths');
  const integer = (bytes: Uint8Array): Buffer => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const trimmed = Buffer.from(bytes.subarray(i));
    const body = (trimmed[0] as number) & 0x80 ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed;
    return Buffer.concat([Buffer.of(0x02, body.length), body]);
  };
  const half = raw.length / 2;
  const seq = Buffer.concat([integer(raw.subarray(0, half)), integer(raw.subarray(half))]);
  if (seq.length > 127) throw new Error('only P-256 signatures are expected here');
  return Buffer.concat([Buffer.of(0x30, seq.length), seq]);
}
