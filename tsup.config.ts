import { defineConfig } from 'tsup';

export default defineConfig({
  // `index` is the browser-safe client + protocol entry; `server/*` is Node only.
  // The CLI keeps its `#!/usr/bin/env node` line from its source.
  entry: {
    index: 'src/index.ts',
    'server/index': 'src/server/index.ts',
    'server/cli': 'src/server/cli.ts',
  },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', 'server/index': 'src/server/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  splitting: true,
  treeshake: true,
});
