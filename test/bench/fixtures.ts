import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The Azure ML Event Grid fixtures the stream is built from. They are read-only; the bench only
 * clones them in memory.
 *
 * They live in `../shared/fixtures` beside the repository root. test/helpers/fixtures.ts finds
 * that folder relative to its own file, which is right when the sources run (vitest) but one level
 * short once compiled into dist/test/helpers. The bench runs compiled, so it starts from the
 * repository root (the nearest folder holding package.json) instead.
 */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

export const BENCH_FIXTURES_DIR = resolve(repositoryRoot(), '..', 'shared', 'fixtures');

export type Schema = 'eventgrid' | 'cloudevents';

/** The first event of `azureml-eventgrid/{schema}-{type}.json` (the docs wrap each in an array). */
export function eventTemplate(schema: Schema, type: string): Record<string, unknown> {
  const file = join(BENCH_FIXTURES_DIR, 'azureml-eventgrid', `${schema}-${type}.json`);
  const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const event = Array.isArray(value) ? value[0] : value;
  if (typeof event !== 'object' || event === null) throw new Error(`${file} holds no event object`);
  return event as Record<string, unknown>;
}

/** The git run properties Azure ML records (`azureml.git.*`, `mlflow.source.git.*`). */
export function gitRunProperties(): Record<string, string> {
  const file = join(BENCH_FIXTURES_DIR, 'azureml-eventgrid', 'runproperties-git.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { properties: Record<string, string> }).properties;
}
