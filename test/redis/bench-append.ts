/**
 * Micro-benchmark: appends/s of one RedisEventLog instance vs a plain PUBLISH loop, same run.
 * Not a test (no timed assertions); run it by hand:
 *
 *   npx esbuild test/redis/bench-append.ts --bundle --platform=node --format=cjs \
 *     --outfile=/tmp/bench-append.cjs --log-level=warning && node /tmp/bench-append.cjs
 *
 * Env: REDIS_URL (default redis://127.0.0.1:6379), N (default 5000), RUNS (default 3).
 * Uses a unique key prefix and deletes its keys afterwards.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { RedisEventLog } from '../../src/server/log/redis.js';
import type { NewEvent } from '../../src/server/log/types.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const N = Number(process.env.N ?? 5000);
const RUNS = Number(process.env.RUNS ?? 3);
const prefix = `bench:${randomUUID()}`;

const data = { proposal_id: 'p1', symbol: 'BTC/USDT', action: 'buy', size: 0.001, filled_price: 95000, order_id: 'o1', status: 'filled' };
const event: NewEvent = { type: 'trade_executed', data, timestamp: new Date().toISOString() };
const payload = JSON.stringify({ topic: 'executions', message: { ...event } });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const pub = createClient({ url });
  pub.on('error', () => {});
  await pub.connect();
  let delivered = 0;
  let wake: (() => void) | undefined;
  const log = new RedisEventLog({ url, keyPrefix: prefix, historySize: 1000, historyTtl: 300_000 });
  await log.start(() => {
    delivered++;
    wake?.();
  });
  const untilDelivered = (n: number) =>
    new Promise<void>((resolve) => {
      wake = () => delivered >= n && resolve();
      wake();
    });

  const modes: Record<string, () => Promise<void>> = {
    'PUBLISH, one at a time': async () => {
      for (let i = 0; i < N; i++) await pub.publish(`${prefix}:plain`, payload);
    },
    'PUBLISH, pipelined': async () => {
      await Promise.all(Array.from({ length: N }, () => pub.publish(`${prefix}:plain`, payload)));
    },
    'append, one at a time (until delivered)': async () => {
      const target = delivered + N;
      for (let i = 0; i < N; i++) await log.append(event);
      await untilDelivered(target);
    },
    'append, pipelined (until delivered)': async () => {
      const target = delivered + N;
      await Promise.all(Array.from({ length: N }, () => log.append(event)));
      await untilDelivered(target);
    },
  };
  const results: Record<string, number[]> = {};
  for (let r = 0; r < RUNS; r++) {
    for (const [name, run] of Object.entries(modes)) {
      const t0 = performance.now();
      await run();
      const s = (performance.now() - t0) / 1000;
      (results[name] ??= []).push(N / s);
    }
  }
  process.stdout.write(`N=${N}, runs=${RUNS}, Redis ${url}\n`);
  for (const [name, xs] of Object.entries(results)) {
    process.stdout.write(`${name.padEnd(42)} median ${Math.round(median(xs))}/s  (runs: ${xs.map((x) => Math.round(x)).join(', ')})\n`);
  }
  await log.close();
  for await (const keys of pub.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) if (keys.length) await pub.del(keys);
  await pub.close();
}

main().catch((err: unknown) => {
  process.exitCode = 1;
  process.stderr.write(`${String(err)}\n`);
});
