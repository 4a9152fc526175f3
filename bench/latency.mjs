// `latency` section: publish -> receive latency at light load (100 events/s to 100 subscribers), on loopback.
// The server process stamps each event with process.hrtime (CLOCK_MONOTONIC, the same clock in every
// process) just before handing it to the server; each client subtracts it on receipt. Raw `ws` gets the
// same load in the same run. Medians over runs of each run's percentiles.
import { closeClients, connectRedis, fmt, median, openClients, startServer } from './lib.mjs';

const SUBSCRIBERS = 100;
const RATE = 100; // events per second
const SECONDS = 5;
const WARMUP = 50; // first events of a run, left out
const RUNS = 4;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function once(kind, options) {
  const srv = await startServer(kind, { heartbeatInterval: 60_000, connectionTimeout: 120_000, ...options });
  const url = `ws://127.0.0.1:${srv.port}/api/ws`;
  const samples = [];
  let received = 0;
  const clients = await openClients(url, SUBSCRIBERS, {
    onMessage: (buf) => {
      const now = process.hrtime.bigint();
      const i = buf.indexOf('"t=');
      if (i < 0) return;
      const t = BigInt(buf.toString('latin1', i + 3, buf.indexOf('"', i + 3)));
      if (received++ >= WARMUP * SUBSCRIBERS) samples.push(Number(now - t) / 1e6);
    },
  });
  if (kind === 'sigmax') {
    await Promise.all(clients.map((ws) => new Promise((resolve) => {
      const onMsg = (buf) => { if (buf.includes('"subscribed"')) { ws.off('message', onMsg); resolve(); } };
      ws.on('message', onMsg);
      ws.send(JSON.stringify({ type: 'subscribe', data: { topics: ['alerts'] } }));
    })));
  }
  const count = RATE * SECONDS;
  await srv.call('paced', { rate: RATE, count });
  const expected = (count - WARMUP) * SUBSCRIBERS;
  for (let i = 0; i < 200 && samples.length < expected; i++) await new Promise((r) => setTimeout(r, 10));
  await closeClients(clients);
  await srv.stop();
  if (samples.length < expected) throw new Error(`${kind}: ${samples.length} of ${expected} deliveries arrived`);
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples.at(-1) };
}

/** Publish -> receive latency of sigmax-ws (memory log; Redis log if reachable) against raw `ws`. */
export async function latency(report) {
  const res = { raw: [], sigmax: [] };
  for (let r = 0; r < RUNS; r++) {
    // Alternating which goes first, so that a change of the machine's load does not favour one.
    for (const kind of r % 2 ? ['sigmax', 'raw'] : ['raw', 'sigmax']) res[kind].push(await once(kind, {}));
  }
  const m = (k, f) => median(res[k].map((x) => x[f]));
  const line = (k) => `p99 ${fmt(m(k, 'p99'), 2)} ms (p50 ${fmt(m(k, 'p50'), 2)}, max ${fmt(m(k, 'max'), 1)})`;
  report('latency', `publish->receive, ${RATE} events/s to ${SUBSCRIBERS} subscribers`, line('sigmax'),
    `raw ws ${line('raw')}, p99 ratio ${fmt(m('sigmax', 'p99') / m('raw', 'p99'), 2)}`, 'p99 < 2 ms');

  const connected = await connectRedis(report, 'latency');
  if (!connected) return;
  const { redis, url: redisUrl } = connected;
  const prefix = `bench:latency:${process.pid}:${Date.now()}`;
  try {
    res.redis = [];
    for (let r = 0; r < RUNS; r++) res.redis.push(await once('sigmax', { redisUrl, redisKeyPrefix: `${prefix}:${r}` }));
    report('latency', `same, Redis event log (${redisUrl})`, line('redis'), `raw ws ${line('raw')}`);
  } finally {
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) if (keys.length) await redis.del(keys);
    await redis.quit();
  }
}
