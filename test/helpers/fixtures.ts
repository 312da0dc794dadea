import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file with a package.json (works from dist/ too). */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root above test/helpers');
    dir = parent;
  }
  return dir;
}

/** `test/fixtures`: real, documented payloads (see its README for where each comes from). Read-only. */
export const FIXTURES_DIR = resolve(repositoryRoot(), 'test', 'fixtures');

export function fixtureText(relative: string): string {
  return readFileSync(join(FIXTURES_DIR, relative), 'utf8');
}

export function fixture<T = unknown>(relative: string): T {
  return JSON.parse(fixtureText(relative)) as T;
}

export function fixtureFiles(folder: string, pattern: RegExp): string[] {
  return readdirSync(join(FIXTURES_DIR, folder))
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => `${folder}/${f}`);
}

/** The first event of a fixture that holds an array (the docs wrap single events in one). */
export function firstEvent(relative: string): Record<string, unknown> {
  const value = fixture(relative);
  return structuredClone((Array.isArray(value) ? value[0] : value) as Record<string, unknown>);
}

/** A concrete workspace for tests that need a real-looking ARM id. */
export const WS =
  '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws-prod';
