// The browser builds of the client entry (`src/index.ts`), shared by tsup.config.ts (which writes them to
// dist/ and embeds the IIFE in the server's dashboard) and vitest.config.ts (which embeds it when the
// server runs from source), so the dashboard always uses the package's own browser client.
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** @param {'iife' | 'esm'} format */
export function buildBrowserClient(format = 'iife') {
  const out = buildSync({
    absWorkingDir: root,
    entryPoints: ['src/index.ts'],
    bundle: true,
    minify: true,
    format,
    globalName: format === 'iife' ? 'SigmaxWS' : undefined,
    platform: 'browser',
    target: 'es2022',
    legalComments: 'none',
    write: false,
    logLevel: 'error',
  });
  return /** @type {import('esbuild').OutputFile} */ (out.outputFiles?.[0]).text;
}
