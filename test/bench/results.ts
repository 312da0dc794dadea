import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * bench-results.json: the bench's headline figures for machines (a tracker, a CI diff), next to the
 * readable report. Each section merges its own keys into the file in the working directory, so a
 * section run alone (`npm run bench:capture`) updates its figures and keeps the others'.
 */
export const RESULTS_FILE = 'bench-results.json';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Figures = { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeInto(target: Figures, figures: Figures): Figures {
  const out: Figures = { ...target };
  for (const [key, value] of Object.entries(figures)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? mergeInto(current, value) : value;
  }
  return out;
}

/** Rounds to `digits` decimals so the file diffs cleanly; non-finite figures become null. */
export function round(n: number, digits = 2): number | null {
  if (!Number.isFinite(n)) return null;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function recordFigures(figures: Figures, dir = process.cwd()): void {
  const path = join(dir, RESULTS_FILE);
  const current = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Figures) : {};
  const merged = mergeInto(current, { ...figures, updatedAt: new Date().toISOString(), node: process.version });
  writeFileSync(path, `${JSON.stringify(merged, null, 2)}\n`);
}
