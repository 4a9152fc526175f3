import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = fileURLToPath(new URL('../../dist/server/cli.js', import.meta.url));
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

beforeAll(() => {
  // CI builds before testing; build here only when there is no build yet.
  if (!existsSync(cli)) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore', timeout: 120_000 });
}, 150_000);

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
    expect(c.frames[0]!.data.protocol).toBe(3);
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
      import { SigmaxServer } from './dist/server/index.js';
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

  it('--help prints usage and exits 0', async () => {
    const r = run(['--help']);
    expect((await r.exited).code).toBe(0);
    expect(r.stdout()).toMatch(/Usage: sigmax-ws-server/);
  });
});
