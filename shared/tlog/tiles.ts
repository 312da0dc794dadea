import { HASH_SIZE, hashNode, type Hash, type NodeReader } from './merkle.js';

/**
 * The tree stored as tiles, after C2SP tlog-tiles: a tile at level L holds up to 256 consecutive
 * hashes of perfect subtrees of 256^L leaves (level 0: leaf hashes), so one tile stands for a
 * subtree of height 8 and any node is a tile read plus at most 7 levels of hashing. Tiles only
 * grow: a tile read at a later tree size still answers for every earlier size.
 *
 * Level-0 tiles also carry `entries`, the content hash (hex) of each leaf's event, which is how
 * an event finds its leaf index.
 */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;

export interface Tile {
  level: number;
  index: number;
  /** The hashes, concatenated: 32 bytes each (the tile's tlog-tiles bytes). */
  hashes: Buffer;
  /** Level 0 only: the event content hashes (hex) of the leaves, in order. */
  entries?: string[];
}

export function tileWidth(tile: Tile): number {
  return tile.hashes.length / HASH_SIZE;
}

export function tileKey(level: number, index: number): string {
  return `${level}/${index}`;
}

/** The tile holding the hashes a node at `height`, `index` is computed from. */
export function tileOfNode(height: number, index: number): { level: number; index: number; offset: number; count: number } {
  const level = Math.floor(height / TILE_HEIGHT);
  const count = 2 ** (height % TILE_HEIGHT);
  const first = index * count;
  return { level, index: Math.floor(first / TILE_WIDTH), offset: first % TILE_WIDTH, count };
}

function hashAt(hashes: Buffer, i: number): Hash {
  return hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
}

/** Hashes `count` (a power of two) consecutive entries of a tile up into one node. */
function foldUp(hashes: Buffer, offset: number, count: number): Hash {
  let level: Hash[] = [];
  for (let i = 0; i < count; i++) level.push(hashAt(hashes, offset + i));
  while (level.length > 1) {
    const up: Hash[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(hashNode(level[i] as Hash, level[i + 1] as Hash));
    level = up;
  }
  return level[0] as Hash;
}

/** A node reader over the tiles given; asking for a node they do not cover is an error. */
export function tileReader(tiles: Iterable<Tile>): NodeReader {
  const byKey = new Map<string, Tile>();
  for (const t of tiles) byKey.set(tileKey(t.level, t.index), t);
  return (height, index) => {
    const at = tileOfNode(height, index);
    const tile = byKey.get(tileKey(at.level, at.index));
    if (!tile || tileWidth(tile) < at.offset + at.count) {
      throw new RangeError(`tile ${tileKey(at.level, at.index)} does not cover node ${height}/${index}`);
    }
    return foldUp(tile.hashes, at.offset, at.count);
  };
}

/**
 * The tiles a computation over the tree reads, found by running it once on zero hashes: proofs
 * need tiles along the leaf's path and along the right edge, which this collects without
 * restating the proof algorithms.
 */
export function tilesRead(compute: (read: NodeReader) => unknown): Array<{ level: number; index: number }> {
  const seen = new Map<string, { level: number; index: number }>();
  const zero = Buffer.alloc(HASH_SIZE);
  compute((height, index) => {
    const at = tileOfNode(height, index);
    seen.set(tileKey(at.level, at.index), { level: at.level, index: at.index });
    return zero;
  });
  return [...seen.values()];
}

/** The right-edge tile of each level for a tree of `size` leaves: which tiles an append continues. */
export function rightEdge(size: number): Array<{ level: number; index: number; width: number }> {
  const edge: Array<{ level: number; index: number; width: number }> = [];
  for (let level = 0, below = size; below > 0; level++, below = Math.floor(below / TILE_WIDTH)) {
    const width = below % TILE_WIDTH;
    if (width > 0) edge.push({ level, index: Math.floor(below / TILE_WIDTH), width });
  }
  return edge;
}

interface EdgeTile {
  index: number;
  hashes: Hash[];
  entries: string[];
}

/**
 * Appends leaves to a tree held as its right-edge tiles only: everything left of them is full
 * and never changes. When a tile fills, its subtree hash is appended to the level above.
 */
export class TileWriter {
  private readonly edge = new Map<number, EdgeTile>();
  private readonly changed = new Set<number>();
  /** Tiles that filled up during this writer's appends, by level; written once and never again. */
  private readonly filled: Tile[] = [];

  constructor(
    public size: number,
    edgeTiles: Tile[],
  ) {
    const byKey = new Map(edgeTiles.map((t) => [tileKey(t.level, t.index), t]));
    for (const want of rightEdge(size)) {
      const tile = byKey.get(tileKey(want.level, want.index));
      if (!tile || tileWidth(tile) < want.width) {
        throw new RangeError(`right-edge tile ${tileKey(want.level, want.index)} is missing or narrower than ${want.width}`);
      }
      const hashes = Array.from({ length: want.width }, (_, i) => Buffer.from(hashAt(tile.hashes, i)));
      this.edge.set(want.level, { index: want.index, hashes, entries: (tile.entries ?? []).slice(0, want.width) });
    }
  }

  append(leafHash: Hash, entry: string): void {
    this.push(0, leafHash, entry);
    this.size += 1;
  }

  private push(level: number, hash: Hash, entry?: string): void {
    // How many hashes this level holds once `hash` is in; `size` does not count the leaf being appended yet.
    const count = Math.floor((this.size + 1) / TILE_WIDTH ** level);
    const index = Math.floor((count - 1) / TILE_WIDTH);
    let tile = this.edge.get(level);
    if (!tile || tile.index !== index) {
      tile = { index, hashes: [], entries: [] };
      this.edge.set(level, tile);
    }
    tile.hashes.push(hash);
    if (entry !== undefined) tile.entries.push(entry);
    this.changed.add(level);
    if (tile.hashes.length === TILE_WIDTH) {
      const full = this.toTile(level, tile);
      this.filled.push(full);
      this.edge.delete(level);
      this.changed.delete(level);
      this.push(level + 1, foldUp(full.hashes, 0, TILE_WIDTH));
    }
  }

  private toTile(level: number, tile: EdgeTile): Tile {
    return { level, index: tile.index, hashes: Buffer.concat(tile.hashes), ...(level === 0 ? { entries: [...tile.entries] } : {}) };
  }

  /** Tiles written since the last call: the ones that filled, and the partial right edge. */
  takeChanged(): Tile[] {
    const out = [...this.filled, ...[...this.changed].map((level) => this.toTile(level, this.edge.get(level) as EdgeTile))];
    this.filled.length = 0;
    this.changed.clear();
    return out;
  }

  /** Reads over the right edge: enough for the root, which is all a writer needs. */
  reader(): NodeReader {
    return tileReader([...this.edge].map(([level, tile]) => this.toTile(level, tile)));
  }
}
