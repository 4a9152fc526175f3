import { rmSync, writeFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { buildBrowserClient } from './scripts/browser-build.mjs';

// One clean before every config runs (they run concurrently).
rmSync('dist', { recursive: true, force: true });
const browserIife = buildBrowserClient('iife');

export default defineConfig([
  {
    // `index`: the browser-safe client; `protocol`: schemas and codecs; `server/index`: Node only.
    // zod is bundled into `protocol` and `server` (never reached by `index`), so installs carry no zod.
    entry: { index: 'src/index.ts', protocol: 'src/protocol/entry.ts', 'server/index': 'src/server/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    noExternal: ['zod'],
    define: { __SIGMAX_BROWSER_JS__: JSON.stringify(browserIife) },
    clean: false,
    target: 'es2022',
    splitting: true,
    treeshake: true,
    async onSuccess() {
      // The browser builds (unpkg-style use) and the AsyncAPI document, generated from the zod schemas.
      writeFileSync('dist/sigmax-ws.browser.js', browserIife);
      writeFileSync('dist/sigmax-ws.browser.mjs', buildBrowserClient('esm'));
      const { asyncApiDocument } = await import(`${process.cwd()}/dist/protocol.js?${Date.now()}`);
      writeFileSync('dist/asyncapi.json', `${JSON.stringify(asyncApiDocument(), null, 2)}\n`);
    },
  },
  {
    // The CLI: ESM only (it keeps its `#!/usr/bin/env node` line from its source).
    // It imports the server from the built `dist/server/index.js` rather than carrying a second copy.
    entry: { 'server/cli': 'src/server/cli.ts' },
    format: ['esm'],
    clean: false,
    esbuildPlugins: [
      {
        name: 'cli-uses-server-entry',
        setup(build) {
          build.onResolve({ filter: /^\.\/(server|config|errors)\.js$/ }, (args) =>
            /[/\\](cli|cluster)\.ts$/.test(args.importer) ? { path: './index.js', external: true } : undefined,
          );
        },
      },
    ],
    target: 'es2022',
    treeshake: true,
  },
]);
