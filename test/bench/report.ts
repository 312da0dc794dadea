import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Small helpers for timing and for printing plain-text tables. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The nearest-rank percentile `p` (0-100) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * CPU milliseconds `work` took on this thread (user + system), not wall time: on a machine shared
 * with other work, wall time counts the waits for a core, and the ratios between paths drift with
 * the load.
 */
export function timeMs(work: () => void): number {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

export function fixed(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

/** Columns padded to their widest cell; the first column left-aligned, the others right-aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}

export function heading(title: string): string {
  return `\n${title}\n${'='.repeat(title.length)}`;
}

/**
 * Runs one bench section as a script of its own (`npm run bench:lookups`, `bench:compliance`) when
 * `moduleUrl` is the entry point; does nothing when the module is imported by run.ts.
 */
export function runSectionAlone(moduleUrl: string, section: string, run: () => Promise<unknown>): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  const started = performance.now();
  const inRun = process.env[IN_RUN] === '1';
  if (!inRun) {
    console.log(`aml-lineage benchmark, section ${section} only`);
    console.log(
      `  node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model.trim() ?? 'unknown'}), ${process.platform}/${process.arch}`,
    );
  }
  run().then(
    () => {
      if (!inRun) console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

const IN_RUN = 'BENCH_SECTION_IN_RUN';

/**
 * Runs a section's module (one that calls runSectionAlone) in a process of its own, its output in
 * run.ts's: for sections that start the local host, whose handlers build the app's services once
 * per process (an earlier section's host would leave them bound to stores that are gone).
 */
export function runSectionInChild(moduleUrl: string): void {
  execFileSync(process.execPath, [fileURLToPath(moduleUrl)], { stdio: 'inherit', env: { ...process.env, [IN_RUN]: '1' } });
}
