// `connections` section: 19 500 idle WebSocket connections held by ONE server process, against raw `ws` at
// the same count: RSS per connection, and the worst event-loop delay while the heartbeat sweeps them all.
// The clients live in two other processes (bench/connections-client.mjs). Every process is started through
// `bash -c 'ulimit -n 65536 ...; exec node ...'` (falling back to the hard limit): Node cannot raise its own
// open-files limit. Loopback only; when one source address has too few ephemeral ports, the clients
// spread over 127.0.0.2, 127.0.0.3, … Bounded in time; every process is stopped at the end.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmt, spawnNode, startServer } from './lib.mjs';

const N = Number(process.env.BENCH_CONNECTIONS) || 19_500;
const CLIENT_PROCESSES = 2;
const MAX_FDS = 65_536;
const HEARTBEAT_MS = 2000;
const OPEN_TIMEOUT_MS = 180_000;

function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([p, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/** Ephemeral ports one source address offers (Linux; a conservative guess elsewhere). */
function ephemeralPorts() {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return hi - lo + 1;
  } catch {
    return 16_000;
  }
}

function clientProcess() {
  const child = spawnNode([fileURLToPath(new URL('./connections-client.mjs', import.meta.url))], { maxFds: MAX_FDS });
  const pending = new Map();
  let next = 0;
  child.on('message', (m) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (p) m.error ? p.reject(new Error(m.error)) : p.resolve(m.result);
  });
  child.on('exit', () => {
    for (const p of pending.values()) p.reject(new Error('client process exited'));
    pending.clear();
  });
  const call = (cmd, args = {}) => new Promise((resolve, reject) => {
    const id = ++next;
    pending.set(id, { resolve, reject });
    child.send({ id, cmd, ...args });
  });
  return { child, call };
}

const stopProcess = async (child) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
};

async function once(kind, run) {
  // Raw ws's heartbeat terminates a socket that missed one pong: it starts once every client is in.
  const options = kind === 'raw' ? {} : { heartbeatInterval: HEARTBEAT_MS, connectionTimeout: 600_000 };
  const srv = await startServer(kind, options, ['--expose-gc'], { maxFds: MAX_FDS });
  const clients = [];
  try {
    const { fdLimit } = await srv.call('ready');
    if (fdLimit !== undefined && fdLimit < N + 100) throw new Error(`the server got an open-files limit of ${fdLimit} (< ${N + 100}); raise the hard limit (ulimit -Hn) or set BENCH_CONNECTIONS`);
    const url = `ws://127.0.0.1:${srv.port}/api/ws`;
    const perProcess = Math.ceil(N / CLIENT_PROCESSES);
    // connect() picks ports per destination, so one address serves up to the range; beyond, bind to
    // several source addresses (fresh ones each run: ports of the previous run linger in TIME_WAIT).
    const nAddr = perProcess * CLIENT_PROCESSES > ephemeralPorts() * 0.8 ? Math.ceil((perProcess * CLIENT_PROCESSES) / (ephemeralPorts() * 0.8)) : 1;
    const m0 = await srv.call('mem');
    for (let i = 0; i < CLIENT_PROCESSES; i++) clients.push(clientProcess());
    const opened = await withTimeout(Promise.all(clients.map((c, i) => {
      const n = Math.min(perProcess, N - i * perProcess);
      const addresses = Array.from({ length: nAddr }, (_, a) => `127.0.0.${2 + ((run * CLIENT_PROCESSES + i) * nAddr + a) % 250}`);
      return c.call('open', { url, n, addresses });
    })), OPEN_TIMEOUT_MS, `${kind}: opening ${N} connections`);
    const failed = opened.find((o) => o.failed);
    if (failed) throw new Error(`${kind}: ${failed.failed} connections failed (${failed.error}; client fd limit ${failed.fdLimit})`);
    const deadline = Date.now() + 10_000;
    while ((await srv.call('connections')).n < N) {
      if (Date.now() > deadline) throw new Error(`${kind}: the server holds ${(await srv.call('connections')).n} of ${N} connections`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
    const m1 = await srv.call('mem');
    // Raw, before its heartbeat starts: the delay floor of an idle server holding N sockets (GC, a busy machine).
    let floor;
    if (kind === 'raw') {
      await srv.call('loopStart');
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 2 + 200));
      floor = await srv.call('loopStop');
      await srv.call('rawHeartbeat', { intervalMs: HEARTBEAT_MS });
    }
    // Two full heartbeat passes over every socket.
    await srv.call('loopStart');
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 2 + 200));
    const loop = await srv.call('loopStop');
    if ((await srv.call('connections')).n < N) throw new Error(`${kind}: connections were lost during the heartbeat`);
    return { rss: (m1.rss - m0.rss) / N, heap: (m1.heapUsed + m1.external - m0.heapUsed - m0.external) / N, loop, floor };
  } finally {
    await Promise.all(clients.map(async (c) => {
      await withTimeout(c.call('close'), 30_000, 'closing clients').catch(() => c.child.kill('SIGKILL'));
      await stopProcess(c.child);
    }));
    await withTimeout(srv.stop(), 30_000, 'stopping the server').catch(() => srv.child.kill('SIGKILL'));
    await stopProcess(srv.child);
  }
}

/** RSS per connection and heartbeat loop delay at N idle connections, sigmax-ws against raw `ws`. */
export async function connections(report) {
  const raw = await once('raw', 0);
  const ours = await once('sigmax', 1);
  report('connections', `RSS per idle connection (${fmt(N, 0)} connections, 1 process)`, `${fmt(ours.rss / 1024, 2)} KB`,
    `raw ws ${fmt(raw.rss / 1024, 2)} KB, ratio ${fmt(ours.rss / raw.rss, 2)}`, '<= 1.5');
  report('connections', 'JS heap + external per idle connection', `${fmt(ours.heap / 1024, 2)} KB`,
    `raw ws ${fmt(raw.heap / 1024, 2)} KB, ratio ${fmt(ours.heap / raw.heap, 2)}`);
  report('connections', `event-loop max delay, heartbeat of ${fmt(N, 0)} sockets (${HEARTBEAT_MS / 1000} s)`, `${fmt(ours.loop.maxMs, 1)} ms (p99 ${fmt(ours.loop.p99Ms, 1)})`,
    `raw ws one-shot sweep ${fmt(raw.loop.maxMs, 1)} ms (p99 ${fmt(raw.loop.p99Ms, 1)}); no heartbeat ${fmt(raw.floor.maxMs, 1)} ms`, '<= 20 ms');
}
