/**
 * After disconnect() a Node process exits by itself — no timer, socket or listener left behind — whatever the
 * client was doing: connected, waiting out a backoff, retrying an unreachable server, or in the middle of a connect.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, startServer, useHarness } from '../helpers/harness.js';

useHarness();
let dir = '';

const CHILD = `
import { SigmaxWebSocketClient } from './client.mjs';
const [mode, url] = process.argv.slice(2);
const say = (s) => process.stdout.write(s + '\\n');
const fast = mode === 'unreachable' || mode === 'waitup';
const c = new SigmaxWebSocketClient({ minReconnectDelay: fast ? 10 : 5000, maxReconnectDelay: fast ? 20 : 10000, pingInterval: 1000, connectTimeout: 30000 });
c.on('error', () => {});
let failures = 0;
c.on('reconnecting', async () => {
  if (mode === 'backoff' || (mode === 'unreachable' && ++failures === 5)) {
    await c.disconnect();
    say('DISCONNECTED');
  }
});
await c.subscribe({ topics: ['executions'] });
if (mode === 'midconnect') {
  const p = c.connect(url).catch((e) => say('REJECTED ' + e.code));
  setTimeout(async () => { await c.disconnect(); say('DISCONNECTED'); }, 200);
  await p;
} else {
  let attempts = 0;
  c.on('state', (s) => s.to === 'connecting' && attempts++);
  await c.connect(url);
  say('READY');
  if (mode === 'waitup') {
    say('ATTEMPTS ' + attempts + ' SUBSCRIPTIONS ' + (await c.getSubscriptions()).join(','));
    await c.disconnect();
    say('DISCONNECTED');
  }
  if (mode === 'connected') {
    await c.ping();
    await c.disconnect();
    say('DISCONNECTED');
  }
}
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sigmax-exit-'));
  await build({
    entryPoints: [fileURLToPath(new URL('../../src/index.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: join(dir, 'client.mjs'),
    external: ['bufferutil', 'utf-8-validate'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
  });
  writeFileSync(join(dir, 'child.mjs'), CHILD);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the child; `onReady` runs when it prints READY. Resolves with ms from DISCONNECTED to exit, and the output. */
function run(mode: string, url: string, onReady?: () => Promise<void>): Promise<{ ms: number; out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(dir, 'child.mjs'), mode, url], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let disconnectedAt = 0;
    const kill = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child (${mode}) did not exit within 10 s; output: ${out}`));
    }, 10_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (!disconnectedAt && out.includes('DISCONNECTED')) disconnectedAt = Date.now();
      if (onReady && out.includes('READY')) {
        const f = onReady;
        onReady = undefined;
        f().catch(reject);
      }
    });
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ ms: disconnectedAt ? Date.now() - disconnectedAt : Infinity, out, code });
    });
  });
}

describe('first connect() through a restart', () => {
  it('waits out a server down for 2 s: connect() resolves once it is up, subscriptions restored, and the process exits after disconnect()', async () => {
    const probe = await startServer();
    const port = probe.port;
    await probe.close();
    const up = setTimeout(() => void startServer({ port }), 2000);
    const t0 = Date.now();
    const r = await run('waitup', `ws://127.0.0.1:${port}/api/ws`).finally(() => clearTimeout(up));
    expect(r.out).toContain('READY');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(r.out).toMatch(/ATTEMPTS (\d+)/);
    expect(Number(/ATTEMPTS (\d+)/.exec(r.out)![1])).toBeGreaterThan(1);
    expect(r.out).toContain('SUBSCRIPTIONS executions');
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(1000);
  });
});

describe('process exit after disconnect()', () => {
  it('exits within 1 s when disconnected while connected', async () => {
    const server = await startServer();
    const r = await run('connected', server.url);
    expect(r.out).toContain('DISCONNECTED');
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(1000);
  });

  it('exits within 1 s when disconnected during a pending backoff', async () => {
    const server = await startServer();
    const r = await run('backoff', server.url, () => server.close());
    expect(r.out).toContain('DISCONNECTED');
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(1000);
  });

  it('exits within 1 s when disconnected while the server is unreachable (reconnects being refused)', async () => {
    const server = await startServer();
    const r = await run('unreachable', server.url, () => server.close());
    expect(r.out).toContain('DISCONNECTED');
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(1000);
  });

  it('exits within 1 s when disconnected in the middle of a connect (peer accepts TCP but never answers)', async () => {
    const server = await startServer();
    const proxy = await startProxy(server.port);
    proxy.blackhole(true);
    const r = await run('midconnect', `ws://127.0.0.1:${proxy.port}/api/ws`);
    expect(r.out).toContain('REJECTED CLIENT_CLOSED');
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(1000);
  });
});
