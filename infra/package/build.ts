import { build } from 'esbuild';
import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';

/**
 * `npm run package`: the deployable function app, small and quick to load.
 *
 * One minified ESM bundle of functions/index.ts (esbuild), code-split so that what the app imports
 * lazily (the Azure Monitor OpenTelemetry distro, @azure/identity) stays out of the start-up
 * chunk, plus host.json, a package.json naming the bundle and the lineage explorer's built assets. Only `@azure/functions-core` stays
 * external: the Functions worker provides it. `@azure/monitor-opentelemetry` is bundled too:
 * kept external it would ship about 150 MB in 60,000 files, and the app uses it only to export
 * its own gauges; its require-hook instrumentation cannot see bundled modules (Node's http is
 * not bundled, so outgoing HTTP dependencies are still seen).
 *
 * Writes the folder azd deploys (azure.yaml `dist: dist/package`) and the same content as a zip
 * for Core Tools or a manual `az functionapp deployment source config-zip`.
 */
// The repository root: the nearest folder up with host.json (this file runs from infra/ and from dist/infra/).
const ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'host.json'))) {
    if (dirname(dir) === dir) throw new Error('no host.json above the package builder');
    dir = dirname(dir);
  }
  return dir;
})();
export const PACKAGE_DIR = join(ROOT, 'dist', 'package');
export const PACKAGE_ZIP = join(ROOT, 'dist', 'aml-lineage.zip');

/** Modules the Functions worker provides at run time. */
export const EXTERNAL_MODULES = ['@azure/functions-core'];

export interface PackageResult {
  dir: string;
  zip: string;
  files: string[];
  bytes: number;
  zipBytes: number;
}

export async function buildPackage(dir = PACKAGE_DIR, zip = PACKAGE_ZIP): Promise<PackageResult> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'functions', 'index.ts')],
    outdir: dir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    external: EXTERNAL_MODULES,
    logLevel: 'warning',
    // CommonJS dependencies inside an ESM bundle still call require() (for Node built-ins and for
    // @azure/functions-core); give the bundle one, resolved from its own location.
    banner: { js: "import{createRequire as __lineageRequire}from'node:module';const require=__lineageRequire(import.meta.url);" },
  });
  const app = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; engines: unknown };
  // No dependencies: everything but the worker-provided module is in the bundle.
  const manifest = { name: app.name, version: app.version, private: true, type: 'module', main: 'index.js', engines: app.engines };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await copyFile(join(ROOT, 'host.json'), join(dir, 'host.json'));
  // The lineage explorer's built web app (npm run build makes it), served by functions/explorer.ts.
  const explorer = join(ROOT, 'dist', 'explorer');
  if (!existsSync(join(explorer, 'index.html'))) throw new Error(`${explorer} is not built: run "npm run build" first`);
  await cp(explorer, join(dir, 'explorer'), { recursive: true });

  const files = (await listFiles(dir)).sort();
  const archive = new yazl.ZipFile();
  // A fixed timestamp makes the zip a function of its content.
  const mtime = new Date('2000-01-01T00:00:00Z');
  for (const file of files) archive.addFile(join(dir, file), file, { mtime, mode: 0o100644 });
  archive.end();
  await mkdir(dirname(zip), { recursive: true });
  await pipeline(archive.outputStream, createWriteStream(zip));

  let bytes = 0;
  for (const file of files) bytes += (await stat(join(dir, file))).size;
  return { dir, zip, files, bytes, zipBytes: (await stat(zip)).size };
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? listFiles(join(dir, e.name), base) : Promise.resolve([relative(base, join(dir, e.name))]))),
  );
  return nested.flat();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  buildPackage().then(
    (r) => {
      const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;
      console.log(`package: ${relative(ROOT, r.dir)} (${r.files.length} files, ${mb(r.bytes)})`);
      console.log(`zip:     ${relative(ROOT, r.zip)} (${mb(r.zipBytes)}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    },
    (error: unknown) => {
      console.error(`package failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
