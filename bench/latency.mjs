// `latency` section: publish -> receive latency at light load (100 events/s to 100 subscribers), on loopback.
// The server process stamps each event with process.hrtime (CLOCK_MONOTONIC, the same clock in every
// process) just before handing it to the server. The subscribers live in a receiver process of their own
// (bench/receivers.mjs, not this orchestrator): minimal WebSocket clients over `net` that take the
// receive time first thing in the socket's read callback, then parse the frame. The server's JS thread runs
// on CPU 0 and the receiver process on CPU 1 (taskset, when there are 2 CPUs or more). Raw `ws` gets the same
// receivers and the same load in the same run, alternating which goes first. Every delivery to every
// subscriber counts, except each subscriber's first WARMUP events. Medians over runs of each run's percentiles.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { connectRedis, fmt, median, startReceivers, startServer } from './lib.mjs';

const SUBSCRIBERS = 100;
const RATE = 100; // events per second
const SECONDS = 5;
const WARMUP = 50; // first events of a run, left out
const RUNS = 4;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Restricts process `pid` (its main thread only, or every thread with `all`) to CPU `cpu` (Linux `taskset`). */
function pin(pid, cpu, all) {
  try {
    execFileSync('taskset', [...(all ? ['-a'] : []), '-cp', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
// With two CPUs or more (and taskset; LAT_PIN=0 turns it off), the server's JS thread runs on CPU 0 and the
// receivers on CPU 1, as if on another machine: unpinned, the kernel often wakes the receiver on the server's
// CPU, where it waits for the whole fan-out.
const pinned = process.env.LAT_PIN !== '0' && availableParallelism() >= 2 && (() => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * One run: `subscribers` receivers (spread over `procs` receiver processes), `RATE` events/s for
 * `seconds`. Resolves with the run's p50/p99/max (ms) and the server's hand-off time per event.
 */
export async function measure(kind, options = {}, { subscribers = SUBSCRIBERS, procs = 1, seconds = SECONDS } = {}) {
  const srv = await startServer(kind, { heartbeatInterval: 60_000, connectionTimeout: 120_000, ...options });
  const receivers = Array.from({ length: procs }, startReceivers);
  if (pinned) {
    pin(srv.child.pid, 0); // its JS thread; V8's GC helpers keep every CPU, as in production
    for (const r of receivers) pin(r.pid, 1, true);
  }
  try {
    await Promise.all(receivers.map((r, i) => r.call('open', {
      port: srv.port,
      path: '/api/ws',
      n: Math.floor(subscribers / procs) + (i < subscribers % procs ? 1 : 0),
      warmup: WARMUP,
      capacity: RATE * seconds - WARMUP,
      subscribe: kind === 'sigmax' ? JSON.stringify({ type: 'subscribe', data: { topics: ['alerts'] } }) : undefined,
      subscribedText: '"subscribed"',
    })));
    const count = RATE * seconds;
    const { handoff } = await srv.call('paced', { rate: RATE, count, warmup: WARMUP });
    const got = await Promise.all(receivers.map((r) => r.call('collect', { perSocket: count - WARMUP, timeoutMs: 3000 })));
    const short = got.reduce((n, g) => n + g.short, 0);
    if (short) throw new Error(`${kind}: ${short} of ${subscribers} subscribers missed deliveries`);
    const samples = got.flatMap((g) => g.samples).sort((a, b) => a - b);
    if (samples.length !== (count - WARMUP) * subscribers) throw new Error(`${kind}: ${samples.length} deliveries counted, ${(count - WARMUP) * subscribers} expected`);
    return { p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples.at(-1), handoff };
  } finally {
    await Promise.all(receivers.map((r) => r.stop()));
    await srv.stop();
  }
}

/** Publish -> receive latency of sigmax-ws (memory log; Redis log if reachable) against raw `ws`. */
export async function latency(report) {
  const res = { raw: [], sigmax: [] };
  for (let r = 0; r < RUNS; r++) {
    // Alternating which goes first, so that a change of the machine's load does not favour one.
    for (const kind of r % 2 ? ['sigmax', 'raw'] : ['raw', 'sigmax']) res[kind].push(await measure(kind));
  }
  const m = (k, f) => median(res[k].map((x) => x[f]));
  const line = (k) => `p99 ${fmt(m(k, 'p99'), 2)} ms (p50 ${fmt(m(k, 'p50'), 2)}, max ${fmt(m(k, 'max'), 1)})`;
  const handoff = (k) => fmt(median(res[k].map((x) => x.handoff.p99)) * 1000, 0);
  report('latency', `publish->receive, ${RATE} events/s to ${SUBSCRIBERS} subscribers${pinned ? '' : ' (unpinned)'}`, line('sigmax'),
    `raw ws ${line('raw')}, p99 ratio ${fmt(m('sigmax', 'p99') / m('raw', 'p99'), 2)}`, 'p99 < 2 ms');
  report('latency', 'server: stamp -> last socket write, p99', `${handoff('sigmax')} µs`, `raw ws ${handoff('raw')} µs`);

  const connected = await connectRedis(report, 'latency');
  if (!connected) return;
  const { redis, url: redisUrl } = connected;
  const prefix = `bench:latency:${process.pid}:${Date.now()}`;
  try {
    res.redis = [];
    for (let r = 0; r < RUNS; r++) res.redis.push(await measure('sigmax', { redisUrl, redisKeyPrefix: `${prefix}:${r}` }));
    report('latency', `same, Redis event log (${redisUrl})`, line('redis'), `raw ws ${line('raw')}`);
  } finally {
    for (const match of [`${prefix}:*`, `{${prefix}:*`]) { // channel; hash-tagged keys `{P}:…`
      for await (const keys of redis.scanIterator({ MATCH: match, COUNT: 1000 })) if (keys.length) await redis.del(keys);
    }
    await redis.quit();
  }
}
