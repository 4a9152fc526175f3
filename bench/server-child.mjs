// A benchmark server in its own process: 'raw' (plain ws, the baseline) or 'sigmax' (our SigmaxServer).
// Driven over IPC by bench/lib.mjs: ready, publish, paced, cpu, mem, loop-delay, close.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocketServer } from 'ws';
import { marketUpdate, serveCalls } from './lib.mjs';

const [kind, optionsJson] = process.argv.slice(2);
const options = JSON.parse(optionsJson || '{}');
let server;
let wss;
let heartbeat;

/** The heartbeat recipe of ws's README: one interval, every socket pinged in the same tick. */
function startRawHeartbeat(intervalMs) {
  clearInterval(heartbeat);
  heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!ws.isAlive) ws.terminate();
      ws.isAlive = false;
      ws.ping();
    }
  }, intervalMs);
}

if (kind === 'raw') {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, path: '/api/ws' });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => {
    ws.isAlive = true;
    ws.on('pong', () => (ws.isAlive = true));
    ws.on('message', () => {});
  });
  if (options.heartbeatInterval) startRawHeartbeat(options.heartbeatInterval);
} else {
  const { SigmaxServer } = await import('../dist/server/index.js');
  const { log, ...rest } = options;
  if (log === 'pubsub') {
    const { PubSubLog } = await import('./pubsub-log.mjs');
    rest.eventLog = new PubSubLog(rest.redisUrl, `${rest.redisKeyPrefix}:bench`);
    delete rest.redisUrl;
  }
  server = new SigmaxServer({ port: 0, host: '127.0.0.1', maxConnections: 100_000, ...rest });
  await server.listen();
}
const port = kind === 'raw' ? wss.address().port : server.port;

/**
 * Publishes `count` market updates, `burst` at a time (concurrently), yielding between bursts so sends can flush.
 * `coalesce` (raw only, the `batch` section's baseline): each burst goes out as one frame joining its serialised events.
 */
async function publish({ count, burst = 5, coalesce = false }) {
  for (let i = 0; i < count; i += burst) {
    const pending = [];
    const joined = [];
    for (let j = i; j < Math.min(count, i + burst); j++) {
      const ev = marketUpdate(5, j);
      if (kind === 'raw') {
        const s = JSON.stringify(ev);
        if (coalesce) joined.push(s);
        else for (const c of wss.clients) if (c.readyState === 1) c.send(s);
      } else {
        pending.push(server.publish('market_update', ev.data));
      }
    }
    if (joined.length) {
      const frame = Buffer.from(`{"type":"batch","events":[${joined.join(',')}]}`);
      for (const c of wss.clients) if (c.readyState === 1) c.send(frame, { binary: false });
    }
    await Promise.all(pending);
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * Publishes `count` alerts at `rate` per second, each stamped with the system-wide monotonic clock
 * (process.hrtime, comparable across processes) just before it is handed to the server: the
 * receivers compute publish -> receive latency from it. Returns how long handing each event over took
 * (`handoff`, ms: from the stamp until publish() returned, i.e. every socket write of the fan-out done
 * when the log delivers synchronously, as the memory log does), p50 and p99 after the first `warmup`.
 */
async function paced({ rate, count, warmup = 0 }) {
  const start = performance.now();
  const handoff = [];
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t = process.hrtime.bigint();
    const data = { message: `t=${t}`, level: 'info' };
    let pending;
    if (kind === 'raw') {
      const s = JSON.stringify({ type: 'alert', data, timestamp: new Date().toISOString(), topic: 'alerts', seq: i + 1 });
      for (const c of wss.clients) if (c.readyState === 1) c.send(s);
    } else {
      pending = server.publish('alert', data);
    }
    if (i >= warmup) handoff.push(Number(process.hrtime.bigint() - t) / 1e6);
    await pending;
  }
  handoff.sort((a, b) => a - b);
  const at = (p) => handoff[Math.min(handoff.length - 1, Math.floor(p * handoff.length))];
  return { handoff: { p50: at(0.5), p99: at(0.99) } };
}

let cpuStart = process.cpuUsage();
let histogram;
const handlers = {
  ready: () => ({ port, fdLimit: Number(process.env.SIGMAX_FD_LIMIT) || undefined }),
  /** Raw only: starts the heartbeat now (e.g. once every client is connected). */
  rawHeartbeat: ({ intervalMs }) => {
    startRawHeartbeat(intervalMs);
    return {};
  },
  connections: () => ({ n: kind === 'raw' ? wss.clients.size : server.stats().active_connections }),
  /** Resolves once `count` events have reached the fan-out (delivered through the log). */
  delivered: async ({ count, timeoutMs = 60_000 }) => {
    const deadline = Date.now() + timeoutMs;
    while (server.stats().last_seq < count) {
      if (Date.now() > deadline) throw new Error(`only ${server.stats().last_seq} of ${count} events delivered`);
      await new Promise((r) => setTimeout(r, 1));
    }
    return {};
  },
  publish: (args) => {
    cpuStart = process.cpuUsage();
    publish(args).catch((e) => process.send({ id: -1, error: String(e) }));
    return {};
  },
  paced,
  publishAwait: async (args) => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await publish(args);
    const c = process.cpuUsage(c0);
    return { wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
  },
  cpu: () => {
    const c = process.cpuUsage(cpuStart);
    return { cpuMs: (c.user + c.system) / 1000 };
  },
  mem: () => {
    for (let i = 0; i < 3; i++) global.gc?.();
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
  },
  loopStart: () => {
    histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    return {};
  },
  loopStop: () => {
    histogram.disable();
    return { maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6, meanMs: histogram.mean / 1e6 };
  },
  close: async () => {
    clearInterval(heartbeat);
    if (kind === 'raw') {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    } else {
      await server.close();
    }
    setImmediate(() => process.disconnect());
    return {};
  },
};

serveCalls(handlers);
