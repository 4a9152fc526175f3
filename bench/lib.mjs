// Shared helpers for the benchmarks: child-process servers, client swarms, statistics.
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import WebSocket from 'ws';

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const fmt = (n, d = 1) => Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/**
 * Starts `node ...nodeArgs` with an IPC channel. With `maxFds`, through bash, whose `ulimit -n` raises the
 * soft limit on open files first (Node cannot call setrlimit itself); the child finds the limit it got
 * in SIGMAX_FD_LIMIT.
 */
export function spawnNode(nodeArgs, { maxFds } = {}) {
  const stdio = ['ignore', 'inherit', 'inherit', 'ipc'];
  if (!maxFds) return spawn(process.execPath, nodeArgs, { stdio });
  const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
  const cmd = `ulimit -n ${maxFds} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; export SIGMAX_FD_LIMIT="$(ulimit -n)"; exec ${[process.execPath, ...nodeArgs].map(q).join(' ')}`;
  return spawn('bash', ['-c', cmd], { stdio });
}

/** Wraps a child process that answers `serveCalls` requests: { child, call(cmd, args), stop() } (stop: `close`, then SIGKILL after 5 s). */
function driveChild(child) {
  const pending = new Map();
  let next = 0;
  child.on('message', (m) => {
    const p = pending.get(m.id);
    if (p) {
      pending.delete(m.id);
      m.error ? p.reject(new Error(m.error)) : p.resolve(m.result);
    }
  });
  const call = (cmd, args = {}) =>
    new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve, reject });
      child.send({ id, cmd, args });
    });
  return {
    child,
    call,
    async stop() {
      await call('close').catch(() => {});
      if (child.exitCode === null && child.signalCode === null) {
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await once(child, 'exit');
        clearTimeout(t);
      }
    },
  };
}

/** Starts bench/server-child.mjs as `kind` ('raw' | 'sigmax'); resolves with { child, port, call(cmd, args), stop() }. */
export async function startServer(kind, options = {}, execArgv = ['--expose-gc'], { maxFds } = {}) {
  const script = new URL('./server-child.mjs', import.meta.url);
  const child = maxFds
    ? spawnNode([...execArgv, fileURLToPath(script), kind, JSON.stringify(options)], { maxFds })
    : fork(script, [kind, JSON.stringify(options)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const driven = driveChild(child);
  const { port } = await driven.call('ready');
  return { ...driven, port };
}

/** Starts a process of minimal WebSocket subscribers (bench/receivers.mjs): { child, pid, call(cmd, args), stop() }. */
export function startReceivers() {
  const child = fork(new URL('./receivers.mjs', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return { ...driveChild(child), pid: child.pid };
}

/** Opens `n` WebSocket clients to `url`, `batch` at a time; resolves with the sockets. */
export async function openClients(url, n, { batch = 200, onMessage } = {}) {
  const sockets = [];
  for (let i = 0; i < n; i += batch) {
    const group = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      if (onMessage) ws.on('message', onMessage);
      ws.on('error', () => {});
      sockets.push(ws);
      group.push(once(ws, 'open'));
    }
    await Promise.all(group);
  }
  return sockets;
}

export async function closeClients(sockets) {
  await Promise.all(
    sockets.map((ws) => {
      if (ws.readyState === WebSocket.CLOSED) return undefined;
      const p = once(ws, 'close');
      ws.terminate();
      return p;
    }),
  );
}

/** A market_update with `n` symbols, as the demo feed sends it. */
export function marketUpdate(n = 5, seq) {
  const syms = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'BNB/USDT', 'XRP/USDT', 'ADA/USDT', 'DOGE/USDT', 'AVAX/USDT'];
  const data = Array.from({ length: n }, (_, i) => ({
    symbol: syms[i % syms.length],
    price: 95000 + Math.random() * 100,
    volume_24h: 1e9 + Math.random() * 1e6,
    change_24h: Math.random() * 4 - 2,
  }));
  const ev = { type: 'market_update', data, timestamp: new Date().toISOString(), topic: 'market' };
  if (seq !== undefined) ev.seq = seq;
  return ev;
}

/**
 * Connects to the bench Redis (`REDIS_URL`, default 127.0.0.1:6379); when none answers, reports the
 * section as skipped and resolves `undefined`. The caller quits the client.
 */
export async function connectRedis(report, section) {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const { createClient } = await import('redis');
  const redis = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch {
    report(section, 'redis', `skipped: no Redis at ${url}`);
    return undefined;
  }
  return { redis, url };
}

/** In a child process: answers the parent's `{id, cmd, args}` calls with `handlers[cmd](args)` (`{id, result}` or `{id, error}`). */
export function serveCalls(handlers) {
  process.on('message', async (m) => {
    try {
      process.send({ id: m.id, result: await handlers[m.cmd](m.args) });
    } catch (e) {
      process.send({ id: m.id, error: String(e?.stack ?? e) });
    }
  });
}
