import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bundleSources, cacheDir } from '../helpers/cli.js';
import { TestClient } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Built from the current sources for this run (never a stale dist/), under node_modules so that the
// bundles' external imports (ws, redis) resolve; one directory per process (parallel runs).
const outDir = cacheDir('cli-test');
const cli = join(outDir, 'cli.mjs');
const serverIndex = join(outDir, 'index.mjs');
const children = new Set<ChildProcess>();

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function urlLine(r: Run, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!r.stdout().includes('\n')) {
    if (Date.now() > deadline) throw new Error(`no URL line; stderr: ${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 20));
  }
  return r.stdout().split('\n')[0]!;
}

beforeAll(async () => {
  await bundleSources(outDir, { cli: 'src/server/cli.ts', index: 'src/server/index.ts' });
}, 60_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

describe('sigmax-ws-server CLI', () => {
  it('prints exactly one line with the ws:// URL, serves, and exits 0 on SIGTERM after closing clients with 1001', async () => {
    const r = run(['--port', '0', '--no-demo']);
    const url = await urlLine(r);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/api\/ws$/);
    const c = await TestClient.ready(url);
    expect(c.frames[0]!.data.protocol).toBe(4);
    r.child.kill('SIGTERM');
    expect((await c.closed).code).toBe(1001);
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(r.stdout()).toBe(`${url}\n`);
  });

  it('exits 0 on SIGINT', async () => {
    const r = run(['--no-demo'], { PORT: '0' });
    await urlLine(r);
    r.child.kill('SIGINT');
    expect((await r.exited).code).toBe(0);
  });

  it('runs the demo feed by default', async () => {
    const r = run(['--port', '0'], { WS_HEARTBEAT_INTERVAL: '0.5' });
    const c = await TestClient.ready(await urlLine(r));
    await c.request({ type: 'subscribe', data: { topics: ['market'] } }, 'subscribed');
    const m = await c.next('market_update', 5000);
    expect(m.data.length).toBeGreaterThanOrEqual(5);
    expect(m.seq).toBeGreaterThan(0);
    r.child.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
  });

  it.each([
    [['--port', '0'], { WS_HEARTBEAT_INTERVAL: 'soon' }, /WS_HEARTBEAT_INTERVAL/],
    [['--port', 'abc'], {}, /--port/],
    [['--bogus'], {}, /bogus/],
    [['--port', '0'], { WS_MAX_CONNECTIONS: '-5' }, /WS_MAX_CONNECTIONS/],
  ])('rejects bad configuration %j %j with a clear message and exit code 2', async (args, env, message) => {
    const r = run(args, env);
    expect((await r.exited).code).toBe(2);
    expect(r.stderr()).toMatch(message);
    expect(r.stdout()).toBe('');
  });

  it('a process using the server API exits by itself after close() (no timer or socket left behind)', async () => {
    const script = `
      import { SigmaxServer } from ${JSON.stringify(pathToFileURL(serverIndex).href)};
      import WebSocket from 'ws';
      const s = new SigmaxServer({ port: 0, demo: true, heartbeatInterval: 100, publishToken: 't' });
      await s.listen();
      const ws = new WebSocket(s.url);
      await new Promise((r) => ws.on('message', r));
      ws.send(JSON.stringify({ type: 'subscribe', data: { topics: ['all'], since: { epoch: s.epoch, seq: 0 } } }));
      ws.send(JSON.stringify({ type: 'command', data: { command: 'get_health' } }));
      const closed = new Promise((r) => ws.on('close', r));
      await s.close();
      console.log('closed', await closed);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(-1), 10_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code).toBe(0);
    expect(out.trim()).toBe('closed 1001');
  });

  it('a signal during startup (Redis not answering yet) is a clean stop: exit 0, no URL line', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket); // accepts, never answers: the first Redis connection attempt hangs
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const r = run(['--port', '0', '--no-demo'], { REDIS_URL: `redis://127.0.0.1:${port}` });
      // Wait until the CLI holds a connection to the silent "Redis": it is starting, not listening.
      const deadline = Date.now() + 10_000;
      while (sockets.size === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      expect(sockets.size).toBeGreaterThan(0);
      r.child.kill('SIGTERM');
      expect(await r.exited).toEqual({ code: 0, signal: null });
      expect(r.stdout()).toBe('');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('an unknown WS_* variable (WS_API_KEY for WS_API_KEYS) stops it with a non-zero exit naming both', async () => {
    const r = run(['--port', '0', '--no-demo'], { WS_API_KEY: 'x' });
    expect((await r.exited).code).toBe(2);
    expect(r.stderr()).toMatch(/WS_API_KEY\b.*did you mean WS_API_KEYS\?/);
    expect(r.stdout()).toBe('');
  });

  it('--version prints the package.json version', async () => {
    const r = run(['--version']);
    expect((await r.exited).code).toBe(0);
    expect(r.stdout()).toBe(`${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`);
  });

  it('--log-format json: one JSON line per connection open and close (id, remote, code, duration) and per refusal, with time and level', async () => {
    const r = run(['--port', '0', '--no-demo', '--log-format', 'json'], { WS_API_KEYS: 'k1' });
    const url = await urlLine(r);
    const c = await TestClient.ready(`${url}?api_key=k1`);
    await c.close();
    const refused = await TestClient.open(`${url}?api_key=bad`);
    await refused.closed;
    const deadline = Date.now() + 5000;
    const lines = () => r.stderr().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    while (!lines().some((l) => l.msg === 'connection refused') || !lines().some((l) => l.msg === 'connection closed')) {
      if (Date.now() > deadline) throw new Error(`missing lines: ${r.stderr()}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    for (const l of lines()) {
      expect(Number.isNaN(Date.parse(l.time as string))).toBe(false);
      expect(['debug', 'info', 'warn', 'error']).toContain(l.level);
    }
    const opened = lines().find((l) => l.msg === 'connection opened')!;
    expect(opened).toMatchObject({ level: 'info', id: expect.any(String), remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    const closed = lines().find((l) => l.msg === 'connection closed')!;
    expect(closed).toMatchObject({ id: opened.id, remote: opened.remote, code: 1005, duration_ms: expect.any(Number) });
    expect(lines().find((l) => l.msg === 'connection refused')).toMatchObject({ code: 'AUTHENTICATION_FAILED', close_code: 1008 });
    r.child.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
  });

  it('text logs by default: a timestamp and a level on each line; Redis unreachable is a warning without --verbose', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as { port: number }).port;
    await new Promise((resolve) => free.close(resolve)); // nothing listens there now
    const r = run(['--port', '0', '--no-demo'], { REDIS_URL: `redis://127.0.0.1:${port}` });
    const deadline = Date.now() + 10_000;
    while (!/WARN.*Redis/i.test(r.stderr())) {
      if (Date.now() > deadline) throw new Error(`no Redis warning; stderr: ${r.stderr()}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    for (const line of r.stderr().split('\n').filter(Boolean)) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARN|ERROR) /);
    r.child.kill('SIGTERM');
    await r.exited;
  });

  it.each([[['--log-format', 'xml']], [['--log-level', 'loud']]])('rejects %j with exit code 2', async (args) => {
    const r = run(['--port', '0', ...args]);
    expect((await r.exited).code).toBe(2);
    expect(r.stderr()).toMatch(/--log-/);
  });

  it('--help prints usage and exits 0', async () => {
    const r = run(['--help']);
    expect((await r.exited).code).toBe(0);
    expect(r.stdout()).toMatch(/Usage: sigmax-ws-server/);
  });
});
