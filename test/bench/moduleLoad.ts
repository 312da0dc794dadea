import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPackage } from '../../infra/package/build.js';

/**
 * Section 0: the deploy package. Module load time of the app as the worker loads it (import of
 * the entry, in a fresh process each run), tsc build against the esbuild bundle, runs alternated so
 * a drifting machine load hits both alike; median of RUNS; and the size of the zip azd deploys.
 */
const RUNS = 9;
const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..', '..', '..');

interface Load {
  ms: number;
  cpuMs: number;
  functions: number;
}

function loadOnce(entry: string): Load {
  const out = execFileSync(process.execPath, [join(here, 'loadApp.js'), entry], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() as string) as Load;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

export async function runModuleLoadBench(): Promise<void> {
  console.log('\n0. Deploy package (npm run package) and module load');
  const pkg = await buildPackage();
  const entries = { tsc: join(ROOT, 'dist', 'functions', 'index.js'), bundle: join(pkg.dir, 'index.js') };
  const times: Record<keyof typeof entries, number[]> = { tsc: [], bundle: [] };
  const cpu: Record<keyof typeof entries, number[]> = { tsc: [], bundle: [] };
  let functions = 0;
  loadOnce(entries.tsc); // warm the file cache for both
  loadOnce(entries.bundle);
  for (let i = 0; i < RUNS; i++) {
    for (const kind of ['tsc', 'bundle'] as const) {
      const r = loadOnce(entries[kind]);
      times[kind].push(r.ms);
      cpu[kind].push(r.cpuMs);
      functions = r.functions;
    }
  }
  const [tsc, bundle] = [median(times.tsc), median(times.bundle)];
  const fmt = (xs: number[]) => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
  console.log(`  module load, ${functions} functions registered, ${RUNS} runs each:`);
  console.log(`    tsc build (dist/functions/index.js): ${fmt(times.tsc)}; CPU median ${median(cpu.tsc).toFixed(0)} ms`);
  console.log(`    bundle    (dist/package/index.js):   ${fmt(times.bundle)}; CPU median ${median(cpu.bundle).toFixed(0)} ms`);
  console.log(`    ratio tsc / bundle: ${(tsc / bundle).toFixed(1)}x   (target: bundle <= 300 ms)`);
  console.log(`    machine load average: ${loadavg()[0]?.toFixed(1) ?? '?'} on ${cpus().length} CPU(s) (wall-clock figures grow with it)`);
  console.log(
    `  package: ${pkg.files.length} files, ${(pkg.bytes / 1024 / 1024).toFixed(2)} MB; zip ${(pkg.zipBytes / 1024 / 1024).toFixed(2)} MB (target <= 10 MB)`,
  );
}
