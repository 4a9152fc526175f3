/** The bundle of a browser app that uses the client stays within 10 KB gzip and reaches nothing Node-only. */
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

describe('client bundle', () => {
  it('an app importing the client is <= 10 KB gzip, with no node:*, ws or redis inside', async () => {
    const out = await build({
      stdin: { contents: `import { SigmaxWebSocketClient, WSEventType } from ${JSON.stringify(entry)}; globalThis.x = [SigmaxWebSocketClient, WSEventType];`, resolveDir: process.cwd() },
      bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, metafile: true, logLevel: 'silent',
    });
    const gzip = gzipSync(out.outputFiles[0]!.contents, { level: 9 }).length;
    expect(gzip).toBeLessThanOrEqual(10 * 1024);
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.filter((i) => /node_modules\/(ws|redis|@redis)\/|^node:/.test(i))).toEqual([]);
  });
});
