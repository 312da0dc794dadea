import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

/**
 * Builds the explorer into dist/explorer, served by functions/explorer.ts under /api/explorer/.
 * Text assets are also written precompressed (.br, .gz) so the function sends them compressed
 * without compressing on every request.
 */
const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(here, '..', '..', 'dist', 'explorer');

function precompress(): Plugin {
  return {
    name: 'precompress',
    apply: 'build',
    async closeBundle() {
      const walk = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
      const br = promisify(brotliCompress);
      const gz = promisify(gzip);
      await Promise.all(
        walk(outDir)
          .filter((f) => /\.(?:html|js|css|svg|json)$/.test(f))
          .map(async (file) => {
            const body = await readFile(file);
            await writeFile(`${file}.br`, await br(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
            await writeFile(`${file}.gz`, await gz(body, { level: 9 }));
          }),
      );
    },
  };
}

export default defineConfig({
  root: here,
  base: '/api/explorer/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    // No inline assets: every byte comes from a file the CSP names ('self').
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
    // The precompression step above is slow by design (brotli at its best); no need to report it.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
  plugins: [precompress()],
});
