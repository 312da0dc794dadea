import { createHash } from 'node:crypto';

/**
 * Merkle tree hashing, proofs and their verification as RFC 9162 (Certificate Transparency 2.0)
 * section 2.1 defines them, with SHA-256: leaf `H(0x00 || data)`, node `H(0x01 || left || right)`,
 * the tree of n leaves split at the largest power of two below n. Pure: nodes come from a
 * `NodeReader`, so the same proofs are computed from an in-memory tree or from stored tiles.
 */

export const HASH_SIZE = 32;

export type Hash = Buffer;

export function hashLeaf(data: Uint8Array): Hash {
  return createHash('sha256').update(Buffer.of(0)).update(data).digest();
}

export function hashNode(left: Uint8Array, right: Uint8Array): Hash {
  return createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest();
}

/** The root of the empty tree: the hash of the empty string. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/**
 * The hash of the perfect subtree of 2^height leaves starting at leaf `index * 2^height`
 * (height 0: a leaf hash). Only ever asked for subtrees that lie wholly inside the tree.
 */
export type NodeReader = (height: number, index: number) => Hash;

/** The largest power of two strictly below n (n >= 2): where RFC 9162 splits a tree of n leaves. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function log2(n: number): number {
  return Math.round(Math.log2(n));
}

/**
 * MTH(D[lo:hi]) for a range that occurs in the RFC's recursion (lo is a multiple of the largest
 * power of two not above hi - lo): the perfect subtrees of its binary decomposition, largest
 * first, folded from the right.
 */
export function rangeHash(lo: number, hi: number, read: NodeReader): Hash {
  if (hi <= lo) return EMPTY_ROOT;
  const n = hi - lo;
  if ((n & (n - 1)) === 0) return read(log2(n), lo / n);
  const k = splitPoint(n);
  return hashNode(read(log2(k), lo / k), rangeHash(lo + k, hi, read));
}

export function treeRoot(size: number, read: NodeReader): Hash {
  return rangeHash(0, size, read);
}

/** PATH(index, D[0:size]), RFC 9162 section 2.1.3.1: sibling hashes from the leaf up. */
export function inclusionProof(index: number, size: number, read: NodeReader): Hash[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const path = (m: number, lo: number, n: number): Hash[] => {
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k ? [...path(m, lo, k), rangeHash(lo + k, lo + n, read)] : [...path(m - k, lo + k, n - k), rangeHash(lo, lo + k, read)];
  };
  return path(index, 0, size);
}

/** PROOF(first, D[0:second]), RFC 9162 section 2.1.4.1; empty when first is 0 or equals second. */
export function consistencyProof(first: number, second: number, read: NodeReader): Hash[] {
  if (!Number.isSafeInteger(first) || first < 0 || first > second) throw new RangeError(`no consistency proof from ${first} to ${second}`);
  if (first === 0 || first === second) return [];
  const subproof = (m: number, lo: number, n: number, whole: boolean): Hash[] => {
    if (m === n) return whole ? [] : [rangeHash(lo, lo + n, read)];
    const k = splitPoint(n);
    return m <= k
      ? [...subproof(m, lo, k, whole), rangeHash(lo + k, lo + n, read)]
      : [...subproof(m - k, lo + k, n - k, false), rangeHash(lo, lo + k, read)];
  };
  return subproof(first, 0, second, true);
}

function isHash(h: Uint8Array): boolean {
  return h.length === HASH_SIZE;
}

/** RFC 9162 section 2.1.3.2. False on any malformed input rather than throwing. */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (!isHash(leafHash) || !isHash(root) || !proof.every(isHash)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = hashNode(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashNode(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.from(r).equals(root);
}

/** RFC 9162 section 2.1.4.2, plus the trivial cases: from the empty tree, and between equal sizes. */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) return false;
  if (!isHash(firstRoot) || !isHash(secondRoot) || !proof.every(isHash)) return false;
  if (first === second) return proof.length === 0 && Buffer.from(firstRoot).equals(secondRoot);
  if (first === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = hashNode(c, fr);
      sr = hashNode(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashNode(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.from(fr).equals(firstRoot) && Buffer.from(sr).equals(secondRoot);
}

/** A reader over every leaf hash in memory: tests, small trees, and the offline checks. */
export function leafHashReader(leaves: readonly Hash[]): NodeReader {
  const levels: Hash[][] = [[...leaves]];
  return (height, index) => {
    for (let h = levels.length; h <= height; h++) {
      const below = levels[h - 1] as Hash[];
      const level: Hash[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) level.push(hashNode(below[i] as Hash, below[i + 1] as Hash));
      levels.push(level);
    }
    const node = levels[height]?.[index];
    if (!node) throw new RangeError(`no complete subtree of height ${height} at ${index}`);
    return node;
  };
}
