import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVaultSigner, LocalKeyFileSigner } from '../../shared/store/checkpointSigner.js';
import {
  checkpointHash,
  checkpointText,
  ieeeP1363ToDer,
  openNote,
  parseCheckpointText,
  parseNote,
  publicKeyInfo,
  signNote,
  type Checkpoint,
  type CheckpointSigner,
} from '../../shared/tlog/checkpoint.js';
import { startKeyVaultStandIn, type KeyVaultStandIn } from '../helpers/keyVaultStandIn.js';

const dir = mkdtempSync(join(tmpdir(), 'tlog-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ORIGIN = 'lineage.example/raw-events';
const checkpoint: Checkpoint = {
  origin: ORIGIN,
  size: 20852163,
  root: createHash('sha256').update('root').digest(),
  time: '2025-01-02T03:04:05.678Z',
  previous: createHash('sha256').update('previous').digest(),
};

async function verifierKeyOf(signer: CheckpointSigner): Promise<string> {
  return publicKeyInfo(signer.keyName, await signer.publicKey()).verifierKey;
}

describe('checkpoint text (C2SP tlog-checkpoint)', () => {
  it('is origin, size, base64 root, then the time and previous-checkpoint extension lines', () => {
    const text = checkpointText(checkpoint);
    const lines = text.split('\n');
    expect(lines.slice(0, 3)).toEqual([ORIGIN, '20852163', checkpoint.root.toString('base64')]);
    expect(lines.slice(3)).toEqual([`time ${checkpoint.time}`, `previous ${(checkpoint.previous as Buffer).toString('base64')}`, '']);
    expect(parseCheckpointText(text)).toEqual(checkpoint);
    const { previous: _previous, ...first } = checkpoint;
    expect(parseCheckpointText(checkpointText(first))).toEqual(first);
  });

  it('refuses text that is not a checkpoint', () => {
    expect(() => parseCheckpointText('origin\n012\nAAAA\n')).toThrow(/tree size/);
    expect(() => parseCheckpointText(`origin\n12\nAAAA\ntime x\n`)).toThrow(/root hash/);
    expect(() => parseCheckpointText(`origin\n12\n${checkpoint.root.toString('base64')}\n`)).toThrow(/time/);
    expect(() => parseCheckpointText('origin\n12')).toThrow(/newline/);
  });
});

describe('signed notes (C2SP signed-note, ECDSA type 0x02)', () => {
  const signer = new LocalKeyFileSigner(ORIGIN, join(dir, 'a', 'key.pem'));

  it('creates the key file on first use (mode 0600) and reuses it afterwards', async () => {
    const first = await signer.publicKey();
    expect(statSync(join(dir, 'a', 'key.pem')).mode & 0o777).toBe(0o600);
    expect((await new LocalKeyFileSigner(ORIGIN, join(dir, 'a', 'key.pem')).publicKey()).equals(first)).toBe(true);
    expect((await new LocalKeyFileSigner(ORIGIN, join(dir, 'b', 'key.pem')).publicKey()).equals(first)).toBe(false);
  });

  it('signs with one line `— <name> base64(key ID || DER signature)` that verifies against the pinned key', async () => {
    const text = checkpointText(checkpoint);
    const note = await signNote(text, signer);
    const parsed = parseNote(note);
    expect(parsed.text).toBe(text);
    const info = publicKeyInfo(ORIGIN, await signer.publicKey());
    expect(parsed.signatures).toEqual([{ keyName: ORIGIN, keyId: info.keyId, signature: expect.any(Buffer) }]);
    // Key ID: first four bytes of SHA-256 over the DER SubjectPublicKeyInfo.
    expect(info.keyId).toBe(
      createHash('sha256')
        .update(await signer.publicKey())
        .digest('hex')
        .slice(0, 8),
    );
    expect(info.verifierKey.startsWith(`${ORIGIN}+${info.keyId}+Aj`)).toBe(true); // base64 of 0x02 0x30 ...
    expect(verify('sha256', Buffer.from(text), createPublicKey(info.publicKeyPem), parsed.signatures[0]?.signature as Buffer)).toBe(true);
    expect(openNote(note, info.verifierKey)).toBe(text);
  });

  it('any altered byte of the text (say the tree size) fails, and so does another key', async () => {
    const note = await signNote(checkpointText(checkpoint), signer);
    const key = await verifierKeyOf(signer);
    expect(() => openNote(note.replace('20852163', '20852164'), key)).toThrow(/does not verify/);
    await fc.assert(
      fc.asyncProperty(fc.nat(), async (at) => {
        const i = at % (note.indexOf('\n\n') + 1);
        const altered = note.slice(0, i) + String.fromCharCode(note.charCodeAt(i) ^ 1) + note.slice(i + 1);
        expect(() => openNote(altered, key)).toThrow();
      }),
      { numRuns: 50 },
    );
    const other = new LocalKeyFileSigner(ORIGIN, join(dir, 'other.pem'));
    const resigned = await signNote(checkpointText(checkpoint), other);
    expect(() => openNote(resigned, key)).toThrow(/no signature by/);
    // A note carrying both signatures opens with either key; signatures by unknown keys are ignored.
    const both = `${note}${resigned.slice(resigned.lastIndexOf('\u2014'))}`;
    expect(openNote(both, key)).toBe(checkpointText(checkpoint));
    expect(openNote(both, await verifierKeyOf(other))).toBe(checkpointText(checkpoint));
  });

  it('chains: the hash of a note changes with any byte of it, signatures included', async () => {
    const a = await signNote(checkpointText(checkpoint), signer);
    const b = await signNote(checkpointText(checkpoint), signer);
    expect(checkpointHash(a).equals(checkpointHash(a))).toBe(true);
    expect(checkpointHash(a).equals(checkpointHash(b))).toBe(false); // ECDSA signatures are randomised
  });

  it('converts r || s signatures to the DER that notes carry', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (message) => {
        const raw = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        const der = ieeeP1363ToDer(raw);
        expect(der.equals(ieeeP1363ToDer(raw))).toBe(true);
        expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, der)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});

describe('Key Vault signer, against an in-process stand-in speaking the Key Vault REST shapes', () => {
  let vault: KeyVaultStandIn;
  beforeAll(async () => {
    vault = await startKeyVaultStandIn();
  });
  afterAll(() => vault.stop());

  // Entra ID has no local server: a fixed token stands in for the managed identity's (test double).
  const credential = { getToken: () => Promise.resolve({ token: 'local-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const tlsToStandIn = {
    name: 'standInTls',
    sendRequest: async (request: { agent?: unknown }, next: (r: never) => Promise<unknown>) => {
      const { Agent } = await import('node:https');
      request.agent = new Agent({ rejectUnauthorized: false });
      return next(request as never);
    },
  };
  const signerFor = (keyId: string) =>
    new KeyVaultSigner(ORIGIN, keyId, () => Promise.resolve(credential), {
      disableChallengeResourceVerification: true, // the service's domain check cannot match 127.0.0.1
      additionalPolicies: [{ policy: tlsToStandIn as never, position: 'perCall' }],
    });

  it('exports the vault key as the public key and signs notes that verify with it (ES256 over the digest, r || s to DER)', async () => {
    const signer = signerFor(`${vault.url}/keys/${vault.keyName}`);
    const spki = await signer.publicKey();
    expect(spki.equals(vault.publicKey.export({ format: 'der', type: 'spki' }))).toBe(true);
    const text = checkpointText(checkpoint);
    const note = await signNote(text, signer);
    expect(openNote(note, await verifierKeyOf(signer))).toBe(text);
    expect(vault.signs).toEqual(['ES256']);
  });

  it('names a missing key in the error', async () => {
    await expect(signerFor(`${vault.url}/keys/missing`).publicKey()).rejects.toThrow(/missing|not found/i);
  });
});
