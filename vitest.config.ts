import { defineConfig } from 'vitest/config';
import { buildBrowserClient } from './scripts/browser-build.mjs';

export default defineConfig({
  // The server's dashboard embeds the browser client build (tsup does the same for dist/).
  define: { __SIGMAX_BROWSER_JS__: JSON.stringify(buildBrowserClient()) },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});
