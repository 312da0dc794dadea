import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyFileSigner } from '../../shared/store/checkpointSigner.js';
import { checkpointText, publicKeyInfo, signNote } from '../../shared/tlog/checkpoint.js';
import { EVIDENCE_PACK_FORMAT, type EvidencePack } from '../../shared/tlog/evidencePack.js';
import { hashLeaf, inclusionProof, leafHashReader, treeRoot, verifyInclusion } from '../../shared/tlog/merkle.js';
import { canonicalJson } from '../../shared/util/canonicalJson.js';

/** The standalone verifier, loaded as an auditor runs it: a plain .mjs file, no build. */
interface FactVerdict {
  hash?: string;
  status: 'OK' | 'PURGED' | 'FAIL';
  message: string;
}
interface Verifier {
  verifyPack(pack: unknown, verifierKey: string): { ok: boolean; checkpoint: { ok: boolean; message: string }; facts: FactVerdict[] };
  verifyInclusion(index: number, size: number, leaf: Buffer, proof: Buffer[], root: Buffer): boolean;
  parseVerifierKey(key: string): unknown;
}
const verifierUrl = new URL('../../infra/verify/verify.mjs', import.meta.url).href;

const dir = mkdtempSync(join(tmpdir(), 'tlog-verifier-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ORIGIN = 'lineage.example/raw-events';
const signer = new LocalKeyFileSigner(ORIGIN, join(dir, 'key.pem'));

let verifier: Verifier;
let key: string;
beforeAll(async () => {
  verifier = (await import(verifierUrl)) as Verifier;
  key = publicKeyInfo(ORIGIN, await signer.publicKey()).verifierKey;
});

/** A log of `size` events and a pack citing `cited` of them, built with the service's own code. */
async function packFor(size: number, cited: number[]): Promise<EvidencePack> {
  const bodies = Array.from({ length: size }, (_, i) =>
    canonicalJson({ event: i, data: { name: `model-${i}`, tags: { é: 'ü', n: i / 7 } } }),
  );
  const leaves = bodies.map((b) => hashLeaf(Buffer.from(b, 'utf8')));
  const read = leafHashReader(leaves);
  const root = treeRoot(size, read);
  const note = await signNote(checkpointText({ origin: ORIGIN, size, root, time: '2025-01-01T00:00:00.000Z' }), signer);
  return {
    format: EVIDENCE_PACK_FORMAT,
    checkpoint: note,
    facts: cited.map((i) => ({
      hash: `sha256:${createHash('sha256')
        .update(bodies[i] as string, 'utf8')
        .digest('hex')}`,
      body: bodies[i] as string,
      leafIndex: i,
      inclusionProof: inclusionProof(i, size, read).map((p) => p.toString('base64')),
    })),
  };
}

describe('offline verifier (infra/verify/verify.mjs)', () => {
  it('verifies a pack built by the service: checkpoint signature, bodies, inclusion', async () => {
    const report = verifier.verifyPack(await packFor(300, [0, 17, 255, 256, 299]), key);
    expect(report.ok).toBe(true);
    expect(report.checkpoint.message).toMatch(/300 leaves/);
    expect(report.facts.map((f) => f.status)).toEqual(['OK', 'OK', 'OK', 'OK', 'OK']);
  });

  it('fails exactly the fact whose body, proof or index was altered', async () => {
    const pack = await packFor(40, [3, 9, 27]);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 2 }), fc.nat(), fc.constantFrom('body', 'proof', 'index'), async (which, at, what) => {
        const facts = pack.facts.map((f, i) => {
          if (i !== which) return f;
          if (what === 'body') {
            const body = f.body as string;
            const j = at % body.length;
            return { ...f, body: body.slice(0, j) + String.fromCharCode(body.charCodeAt(j) ^ 1) + body.slice(j + 1) };
          }
          if (what === 'index') return { ...f, leafIndex: (f.leafIndex + 1 + (at % 39)) % 40 };
          const proof = [...f.inclusionProof];
          const raw = Buffer.from(proof[at % proof.length] as string, 'base64');
          raw[at % 32] = (raw[at % 32] as number) ^ (1 << (at % 8));
          proof[at % proof.length] = raw.toString('base64');
          return { ...f, inclusionProof: proof };
        });
        const report = verifier.verifyPack({ ...pack, facts }, key);
        expect(report.ok).toBe(false);
        expect(report.facts.map((f) => f.status)).toEqual(pack.facts.map((_, i) => (i === which ? 'FAIL' : 'OK')));
      }),
      { numRuns: 60 },
    );
  });

  it('fails every fact when the checkpoint was altered or signed by another key', async () => {
    const pack = await packFor(12, [1, 2]);
    const bumped = verifier.verifyPack({ ...pack, checkpoint: pack.checkpoint.replace('\n12\n', '\n13\n') }, key);
    expect(bumped.checkpoint).toMatchObject({ ok: false, message: expect.stringMatching(/does not verify/) });
    expect(bumped.facts.map((f) => f.status)).toEqual(['FAIL', 'FAIL']);
    const other = new LocalKeyFileSigner(ORIGIN, join(dir, 'other.pem'));
    const forged = await signNote(pack.checkpoint.slice(0, pack.checkpoint.lastIndexOf('\n\n') + 1), other);
    expect(verifier.verifyPack({ ...pack, checkpoint: forged }, key).checkpoint.message).toMatch(/no signature by the pinned key/);
    expect(verifier.verifyPack({ ...pack, format: 'something else' }, key).ok).toBe(false);
  });

  it('accepts a purged record by its leaf hash, and fails a record with neither body nor purge', async () => {
    const pack = await packFor(5, [2, 4]);
    const [kept, gone] = pack.facts as [EvidencePack['facts'][0], EvidencePack['facts'][0]];
    const leafHash = hashLeaf(Buffer.from(gone.body as string)).toString('base64');
    const { body: _body, ...withoutBody } = gone;
    const purged = { ...withoutBody, leafHash, purged: { purgedAt: '2031-01-01T00:00:00Z', policy: 'raw-events' } };
    const report = verifier.verifyPack({ ...pack, facts: [kept, purged] }, key);
    expect(report.ok).toBe(true);
    expect(report.facts.map((f) => f.status)).toEqual(['OK', 'PURGED']);
    expect(verifier.verifyPack({ ...pack, facts: [kept, { ...withoutBody, leafHash }] }, key).facts[1]?.status).toBe('FAIL');
  });

  it('agrees with the service on inclusion proofs (two implementations of RFC 9162 section 2.1.3.2)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.nat(), fc.boolean(), (size, seed, corrupt) => {
        const leaves = Array.from({ length: size }, (_, i) => hashLeaf(Buffer.from(`${seed}/${i}`)));
        const index = seed % size;
        const read = leafHashReader(leaves);
        const proof = inclusionProof(index, size, read);
        const root = treeRoot(size, read);
        const leaf = corrupt ? hashLeaf(Buffer.from('other')) : (leaves[index] as Buffer);
        expect(verifier.verifyInclusion(index, size, leaf, proof, root)).toBe(verifyInclusion(index, size, leaf, proof, root));
        expect(verifier.verifyInclusion(index, size, leaf, proof, root)).toBe(!corrupt);
      }),
    );
  });

  it('refuses a verifier key whose ID does not match its public key', () => {
    const [name, , ...publicKey] = key.split('+');
    expect(() => verifier.parseVerifierKey(key)).not.toThrow();
    expect(() => verifier.parseVerifierKey(`${name}+00000000+${publicKey.join('+')}`)).toThrow(/key ID/);
  });
});
