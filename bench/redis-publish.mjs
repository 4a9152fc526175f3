// Section `redis-publish` of `npm run bench`: publish throughput on Redis, against a pipelined plain
// PUBLISH/SUBSCRIBE of the same events measured in the same run (SIGMAX 2.0's fan-out: no shared
// sequence, no history, no resume). Each event is published on instance A with 50 publish() calls in
// flight, and counted once it has been delivered (handed to the fan-out) — on A, and on another
// instance B sharing the log.
// BENCH_REFERENCE=<directory of a built checkout of another version, e.g. 0.1.0> also measures that version in the same
// harness, alternating with ours (0.1.0 is commit 63c3687: git worktree add /tmp/ref 63c3687 && cd /tmp/ref && npm ci &&
// npm run build, then BENCH_REFERENCE=/tmp/ref node bench/run.mjs publish).
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectRedis, fmt, median, startServer } from './lib.mjs';

const COUNT = 20_000;
const RUNS = 3;

/** Redis's CPU time so far (user + sys, s), from `INFO cpu`. */
async function redisCpu(redis) {
  const info = await redis.info('cpu');
  const get = (k) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return get('used_cpu_user') + get('used_cpu_sys');
}

/** One run: events/s, and CPU µs per event of the publishing instance, the other one (if any) and Redis. */
async function once(redis, options, count, across, start = startServer) {
  const a = await start('sigmax', options);
  const b = across ? await start('sigmax', options) : undefined;
  try {
    const cpu0 = await Promise.all([a.call('cpu'), b?.call('cpu'), redisCpu(redis)]);
    const t0 = performance.now();
    await a.call('publishAwait', { count, burst: 50 });
    await (b ?? a).call('delivered', { count });
    const rate = (count / (performance.now() - t0)) * 1000;
    const cpu1 = await Promise.all([a.call('cpu'), b?.call('cpu'), redisCpu(redis)]);
    const us = (ms0, ms1) => ((ms1 - ms0) * 1000) / count;
    return {
      rate,
      cpu: { pub: us(cpu0[0].cpuMs, cpu1[0].cpuMs), other: b ? us(cpu0[1].cpuMs, cpu1[1].cpuMs) : 0, redis: us(cpu0[2] * 1000, cpu1[2] * 1000) },
    };
  } finally {
    await a.stop();
    await b?.stop();
  }
}

/** Median CPU µs per event of each process, and their sum. */
function cpuLine(runs) {
  const m = (k) => median(runs.map((r) => r.cpu[k]));
  const parts = [`publisher ${fmt(m('pub'), 1)}`, ...(m('other') ? [`other instance ${fmt(m('other'), 1)}`] : []), `Redis ${fmt(m('redis'), 1)}`];
  return { text: parts.join(' + '), sum: m('pub') + m('other') + m('redis') };
}

/** @param {(section: string, metric: string, value: string, baseline?: string) => void} report */
export async function redisPublish(report) {
  const connected = await connectRedis(report, 'publish');
  if (!connected) return;
  const { redis, url: redisUrl } = connected;
  const prefix = `bench:${process.pid}:${Date.now()}`;
  const refDir = process.env.BENCH_REFERENCE;
  const ref = refDir ? await import(pathToFileURL(join(refDir, 'bench', 'lib.mjs')).href) : undefined;
  try {
    for (const across of [false, true]) {
      const ours = [], plain = [], other = [];
      for (let r = 0; r < RUNS; r++) {
        const p = `${prefix}:${across ? 'x' : 'o'}${r}`;
        plain.push(await once(redis, { redisUrl, redisKeyPrefix: `${p}:ps`, log: 'pubsub' }, COUNT, across));
        ours.push(await once(redis, { redisUrl, redisKeyPrefix: `${p}:seq`, historySize: 1000 }, COUNT, across));
        if (ref) other.push(await once(redis, { redisUrl, redisKeyPrefix: `${p}:ref`, historySize: 1000 }, COUNT, across, ref.startServer));
      }
      const rate = (runs) => median(runs.map((x) => x.rate));
      const where = across ? 'another instance' : 'the publishing instance';
      report(
        'publish',
        `redis, shared sequence + history, delivered on ${where}: events/s (${COUNT})`,
        `${fmt(rate(ours), 0)}/s`,
        `pipelined plain PUBLISH/SUBSCRIBE ${fmt(rate(plain), 0)}/s, ratio ${fmt(rate(ours) / rate(plain), 2)}`,
      );
      if (ref) report('publish', `same, the version in BENCH_REFERENCE (${refDir})`, `${fmt(rate(other), 0)}/s`, `ours / it ${fmt(rate(ours) / rate(other), 2)}`);
      if (across) {
        // CPU per event over every process involved: on this machine's cores, the rate the work itself allows.
        for (const [name, runs] of [['ours', ours], ['plain PUBLISH/SUBSCRIBE', plain], ...(ref ? [['BENCH_REFERENCE', other]] : [])]) {
          const { text, sum } = cpuLine(runs);
          report('publish', `CPU µs per event, ${name}`, `${text} = ${fmt(sum, 1)}`, `${availableParallelism()} cores: at most ${fmt((availableParallelism() * 1e6) / sum, 0)}/s`);
        }
      }
    }
  } finally {
    for (const match of [`${prefix}:*`, `{${prefix}:*`]) {
      for await (const keys of redis.scanIterator({ MATCH: match, COUNT: 1000 })) if (keys.length) await redis.del(keys);
    }
    await redis.quit();
  }
}
