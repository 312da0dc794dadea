import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  hashLeaf,
  hashNode,
  inclusionProof,
  leafHashReader,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from '../../shared/tlog/merkle.js';
import { rightEdge, tileReader, tilesRead, TileWriter, TILE_WIDTH, type Tile } from '../../shared/tlog/tiles.js';

interface Vectors {
  leafInputs: string[];
  emptyRoot: string;
  rootsBySize: string[];
  inclusionProofs: Array<{ leafIndex: number; treeSize: number; proof: string[] }>;
  consistencyProofs: Array<{ first: number; second: number; proof: string[] }>;
}
const vectors = JSON.parse(readFileSync(new URL('../fixtures/tlog/merkle-vectors.json', import.meta.url), 'utf8')) as Vectors;
const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const leaves = vectors.leafInputs.map((l) => hashLeaf(hex(l)));

/** MTH straight from RFC 9162 section 2.1.1, recursive over an array: the independent reference. */
function referenceRoot(d: readonly Hash[]): Hash {
  if (d.length === 0) return createHash('sha256').digest();
  if (d.length === 1) return d[0] as Hash;
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return hashNode(referenceRoot(d.slice(0, k)), referenceRoot(d.slice(k)));
}

const randomLeaves = (n: number, seed: number): Hash[] =>
  Array.from({ length: n }, (_, i) => hashLeaf(createHash('sha256').update(`${seed}:${i}`).digest()));

function flip(h: Uint8Array, bit: number): Buffer {
  const out = Buffer.from(h);
  const at = Math.floor(bit / 8) % out.length;
  out[at] = (out[at] as number) ^ (1 << (bit % 8));
  return out;
}

describe('Merkle tree hashing (RFC 9162 known vectors)', () => {
  it('computes the published root for every prefix of the eight-leaf corpus, and the empty root', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe(vectors.emptyRoot);
    expect(treeRoot(0, leafHashReader([])).toString('hex')).toBe(vectors.emptyRoot);
    vectors.rootsBySize.forEach((root, i) => {
      expect(treeRoot(i + 1, leafHashReader(leaves.slice(0, i + 1))).toString('hex')).toBe(root);
    });
  });

  it('produces the published inclusion proofs, and they verify', () => {
    for (const v of vectors.inclusionProofs) {
      const proof = inclusionProof(v.leafIndex, v.treeSize, leafHashReader(leaves.slice(0, v.treeSize)));
      expect(proof.map((p) => p.toString('hex'))).toEqual(v.proof);
      const root = hex(vectors.rootsBySize[v.treeSize - 1] as string);
      expect(verifyInclusion(v.leafIndex, v.treeSize, leaves[v.leafIndex] as Hash, proof, root)).toBe(true);
    }
  });

  it('produces the published consistency proofs, and they verify', () => {
    for (const v of vectors.consistencyProofs) {
      const proof = consistencyProof(v.first, v.second, leafHashReader(leaves.slice(0, v.second)));
      expect(proof.map((p) => p.toString('hex'))).toEqual(v.proof);
      const [r1, r2] = [vectors.rootsBySize[v.first - 1] as string, vectors.rootsBySize[v.second - 1] as string].map(hex);
      expect(verifyConsistency(v.first, v.second, r1 as Buffer, r2 as Buffer, proof)).toBe(true);
    }
  });

  it('rejects the trivial and malformed cases', () => {
    const root = hex(vectors.rootsBySize[7] as string);
    expect(verifyInclusion(8, 8, leaves[0] as Hash, [], root)).toBe(false);
    expect(verifyInclusion(0, 0, leaves[0] as Hash, [], EMPTY_ROOT)).toBe(false);
    expect(verifyInclusion(0, 1, leaves[0] as Hash, [], leaves[0] as Hash)).toBe(true);
    expect(verifyInclusion(0, 1, leaves[0] as Hash, [Buffer.alloc(5)], leaves[0] as Hash)).toBe(false);
    expect(verifyConsistency(0, 8, EMPTY_ROOT, root, [])).toBe(true);
    expect(verifyConsistency(8, 8, root, root, [])).toBe(true);
    expect(verifyConsistency(8, 8, root, flip(root, 3), [])).toBe(false);
    expect(verifyConsistency(8, 4, root, root, [])).toBe(false);
    expect(verifyConsistency(4, 8, root, root, [])).toBe(false);
  });
});

describe('Merkle proofs (properties)', () => {
  const sizeAndIndex = fc.integer({ min: 1, max: 300 }).chain((size) => fc.tuple(fc.constant(size), fc.nat({ max: size - 1 }), fc.nat()));

  it('the root equals the RFC recursion for any size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.nat(), (size, seed) => {
        const d = randomLeaves(size, seed);
        expect(treeRoot(size, leafHashReader(d)).equals(referenceRoot(d))).toBe(true);
      }),
    );
  });

  it('every inclusion proof verifies, and any altered leaf, root, proof node or index fails', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), ([size, index, seed], bit) => {
        const d = randomLeaves(size, seed);
        const root = referenceRoot(d);
        const leaf = d[index] as Hash;
        const proof = inclusionProof(index, size, leafHashReader(d));
        expect(verifyInclusion(index, size, leaf, proof, root)).toBe(true);
        expect(verifyInclusion(index, size, flip(leaf, bit), proof, root)).toBe(false);
        expect(verifyInclusion(index, size, leaf, proof, flip(root, bit))).toBe(false);
        if (proof.length > 0) {
          const at = bit % proof.length;
          expect(
            verifyInclusion(
              index,
              size,
              leaf,
              proof.map((p, i) => (i === at ? flip(p, bit) : p)),
              root,
            ),
          ).toBe(false);
          expect(verifyInclusion(index, size, leaf, proof.slice(1), root)).toBe(false);
          expect(verifyInclusion(index, size, leaf, [...proof, root], root)).toBe(false);
        }
        // Another index in the same tree fails unless its leaf happens to be the same hash.
        const other = (index + 1 + (bit % size)) % size;
        if (other !== index) expect(verifyInclusion(other, size, leaf, proof, root)).toBe(false);
        // The tree size is bound to the root by the checkpoint's signature, not by the proof: sizes
        // whose path has the same shape verify alike (checkpoint tests alter the signed size).
      }),
    );
  });

  it('every consistency proof verifies, and any altered root or node, or a forked tree, fails', () => {
    const sizes = fc.integer({ min: 1, max: 300 }).chain((second) => fc.tuple(fc.integer({ min: 1, max: second }), fc.constant(second)));
    fc.assert(
      fc.property(sizes, fc.nat(), fc.nat(), ([first, second], seed, bit) => {
        const d = randomLeaves(second, seed);
        const [r1, r2] = [referenceRoot(d.slice(0, first)), referenceRoot(d)];
        const proof = consistencyProof(first, second, leafHashReader(d));
        expect(verifyConsistency(first, second, r1, r2, proof)).toBe(true);
        if (first === second) return;
        expect(verifyConsistency(first, second, flip(r1, bit), r2, proof)).toBe(false);
        expect(verifyConsistency(first, second, r1, flip(r2, bit), proof)).toBe(false);
        const at = bit % proof.length;
        expect(
          verifyConsistency(
            first,
            second,
            r1,
            r2,
            proof.map((p, i) => (i === at ? flip(p, bit) : p)),
          ),
        ).toBe(false);
        expect(verifyConsistency(first, second, r1, r2, proof.slice(0, -1))).toBe(false);
        // A forked log: same size, one leaf different, is not an extension of the first tree.
        const forked = [...d];
        const changed = bit % first;
        forked[changed] = flip(d[changed] as Hash, 1);
        expect(verifyConsistency(first, second, r1, referenceRoot(forked), proof)).toBe(false);
      }),
    );
  });
});

describe('tiles', () => {
  /** Appends in batches, keeping every tile the writer hands out, as the store would. */
  function writeTiles(d: readonly Hash[], batches: number[]): Map<string, Tile> {
    const stored = new Map<string, Tile>();
    let size = 0;
    for (const batch of batches) {
      const edge = rightEdge(size).map((e) => stored.get(`${e.level}/${e.index}`) as Tile);
      const writer = new TileWriter(size, edge);
      for (const h of d.slice(size, size + batch)) writer.append(h, h.toString('hex'));
      for (const t of writer.takeChanged()) stored.set(`${t.level}/${t.index}`, t);
      size = writer.size;
      expect(treeRoot(size, writer.reader()).equals(referenceRoot(d.slice(0, size)))).toBe(true);
    }
    return stored;
  }

  it('tiles written in any batches give the same root and proofs as the whole tree', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 4 }), fc.nat(), (batches, seed) => {
        const total = batches.reduce((a, b) => a + b, 0);
        const d = randomLeaves(total, seed);
        const tiles = writeTiles(d, batches);
        const read = tileReader(tiles.values());
        const index = seed % total;
        expect(inclusionProof(index, total, read)).toEqual(inclusionProof(index, total, leafHashReader(d)));
        const first = 1 + (seed % total);
        expect(consistencyProof(first, total, read)).toEqual(consistencyProof(first, total, leafHashReader(d)));
        // Level-0 tiles list the entries in leaf order.
        const entries = [...tiles.values()]
          .filter((t) => t.level === 0)
          .sort((a, b) => a.index - b.index)
          .flatMap((t) => t.entries ?? []);
        expect(entries).toEqual(d.map((h) => h.toString('hex')));
      }),
      { numRuns: 40 },
    );
  });

  it('a proof reads few tiles: the leaf path and the right edge', () => {
    const size = TILE_WIDTH ** 2 * 3 + 1000; // three full level-1 tiles' worth, and more
    const needed = tilesRead((read) => inclusionProof(12_345, size, read));
    expect(needed.length).toBeLessThanOrEqual(6);
    expect(needed).toContainEqual({ level: 0, index: Math.floor(12_345 / TILE_WIDTH) });
  });

  it('a writer refuses a right edge that does not match the size', () => {
    const d = randomLeaves(300, 1);
    const tiles = writeTiles(d, [300]);
    expect(() => new TileWriter(301, [...tiles.values()])).toThrow(/right-edge tile/);
  });
});
