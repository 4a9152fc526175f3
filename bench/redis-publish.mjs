// Section `redis-publish` of `npm run bench`: publish throughput on Redis, against a pipelined plain
// PUBLISH/SUBSCRIBE of the same events measured in the same run (SIGMAX 2.0's fan-out: no shared
// sequence, no history, no resume). Each event is published on instance A with 50 publish() calls in
// flight, and counted once it has been delivered (handed to the fan-out) — on A, and on another
// instance B sharing the log.
// BENCH_REFERENCE=<directory of a built checkout of another version, e.g. 0.1.0> also measures that version in the same
// harness, alternating with ours (0.1.0 is commit 63c3687: git worktree add /tmp/ref 63c3687 && cd /tmp/ref && npm ci &&
// npm run build, then BENCH_REFERENCE=/tmp/ref node bench/run.mjs publish).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectRedis, fmt, median, startServer } from './lib.mjs';

const COUNT = 20_000;
const RUNS = 3;

async function once(options, count, across, start = startServer) {
  const a = await start('sigmax', options);
  const b = across ? await start('sigmax', options) : undefined;
  try {
    const t0 = performance.now();
    await a.call('publishAwait', { count, burst: 50 });
    await (b ?? a).call('delivered', { count });
    return (count / (performance.now() - t0)) * 1000;
  } finally {
    await a.stop();
    await b?.stop();
  }
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
        plain.push(await once({ redisUrl, redisKeyPrefix: `${p}:ps`, log: 'pubsub' }, COUNT, across));
        ours.push(await once({ redisUrl, redisKeyPrefix: `${p}:seq`, historySize: 1000 }, COUNT, across));
        if (ref) other.push(await once({ redisUrl, redisKeyPrefix: `${p}:ref`, historySize: 1000 }, COUNT, across, ref.startServer));
      }
      const where = across ? 'another instance' : 'the publishing instance';
      report(
        'publish',
        `redis, shared sequence + history, delivered on ${where}: events/s (${COUNT})`,
        `${fmt(median(ours), 0)}/s`,
        `pipelined plain PUBLISH/SUBSCRIBE ${fmt(median(plain), 0)}/s, ratio ${fmt(median(ours) / median(plain), 2)}`,
      );
      if (ref) report('publish', `same, the version in BENCH_REFERENCE (${refDir})`, `${fmt(median(other), 0)}/s`, `ours / it ${fmt(median(ours) / median(other), 2)}`);
    }
  } finally {
    for (const match of [`${prefix}:*`, `{${prefix}:*`]) {
      for await (const keys of redis.scanIterator({ MATCH: match, COUNT: 1000 })) if (keys.length) await redis.del(keys);
    }
    await redis.quit();
  }
}
