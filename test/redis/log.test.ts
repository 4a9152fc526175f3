import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisEventLog, type RedisEventLogOptions } from '../../src/server/log/redis.js';
import type { NewEvent } from '../../src/server/log/types.js';
import { APPEND_SCRIPT, runScript, script } from '../../src/server/log/redis-scripts.js';
import { RedisLogStore } from '../../src/server/log/redis-store.js';
import { randomUUID } from 'node:crypto';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import {
  REDIS_URL,
  Recorder,
  deleteKeys,
  memoryLogger,
  redisAvailability,
  testClient,
  uniquePrefix,
  waitFor,
  type TestClient,
} from './helpers.js';

const redisUp = await redisAvailability();

const alert = (n: number, from = 'test'): NewEvent => ({
  type: 'alert',
  data: { message: `${from} ${n}`, level: 'info', n, from },
  timestamp: new Date().toISOString(),
});

const legacy = (type: string, data: unknown, timestamp = new Date().toISOString()) =>
  JSON.stringify({ topic: 'ignored', message: { type, data, timestamp, connection_id: null } });

const trade = {
  proposal_id: 'prop_1',
  symbol: 'BTC/USDT',
  action: 'buy',
  size: 0.001,
  filled_price: 95000,
  order_id: 'order_1',
  status: 'filled',
};

describe.skipIf(!redisUp)('RedisEventLog on a real Redis', () => {
  let redis: TestClient;
  let prefix: string;
  const logs: RedisEventLog[] = [];

  beforeAll(async () => {
    redis = await testClient();
  });
  afterAll(async () => {
    redis?.destroy();
  });
  afterEach(async () => {
    await Promise.all(logs.splice(0).map((l) => l.close()));
    await deleteKeys(redis, prefix);
  });

  /** A started log on the shared test Redis under this test's prefix. */
  async function open(options: Partial<RedisEventLogOptions> = {}) {
    const rec = new Recorder();
    const mem = memoryLogger();
    const log = new RedisEventLog({
      url: REDIS_URL,
      keyPrefix: prefix,
      historySize: 100,
      historyTtl: 60_000,
      logger: mem.logger,
      onReset: rec.onReset,
      ...options,
    });
    logs.push(log);
    await log.start(rec.onEvent);
    return { log, rec, mem };
  }

  it('hands an event appended on A to A and to B exactly once, in order, with consecutive seqs', async () => {
    prefix = uniquePrefix();
    const a = await open();
    const b = await open();
    expect(a.log.epoch).toBe(b.log.epoch);
    expect(a.log.status()).toMatchObject({ backend: 'redis', connected: true, lastSeq: 0 });
    for (let i = 1; i <= 20; i++) await a.log.append([alert(i)]);
    await waitFor(() => a.rec.events.length >= 20 && b.rec.events.length >= 20, 5000, 'both to see 20 events');
    // a marker after the 20 proves that no duplicate is still on its way
    await b.log.append([alert(0, 'marker')]);
    await waitFor(() => a.rec.events.length >= 21 && b.rec.events.length >= 21);
    const expected = Array.from({ length: 21 }, (_, i) => i + 1);
    expect(a.rec.seqs()).toEqual(expected);
    expect(b.rec.seqs()).toEqual(expected);
    expect(a.rec.events.slice(0, 20).map((e) => (e.data as { n: number }).n)).toEqual(expected.slice(0, 20));
    expect(b.rec.events[0]).toEqual({ ...alert(1), timestamp: a.rec.events[0]!.timestamp, topic: 'alerts', seq: 1, json: JSON.stringify(alert(1).data) });
    expect(a.log.status().lastSeq).toBe(21);
    expect(a.rec.resets).toEqual([]);
  });

  it('gives both instances the same total order, without gaps, under 500 concurrent appends from each', async () => {
    prefix = uniquePrefix();
    const a = await open({ historySize: 2000 });
    const b = await open({ historySize: 2000 });
    await Promise.all([
      Promise.all(Array.from({ length: 500 }, (_, i) => a.log.append([alert(i, 'A')]))),
      Promise.all(Array.from({ length: 500 }, (_, i) => b.log.append([alert(i, 'B')]))),
    ]);
    await waitFor(() => a.rec.events.length >= 1000 && b.rec.events.length >= 1000, 10_000, '1000 events on both');
    const key = (e: { data: unknown }) => `${(e.data as { from: string }).from}${(e.data as { n: number }).n}`;
    expect(a.rec.seqs()).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(a.rec.events.map(key)).toEqual(b.rec.events.map(key));
    expect(new Set(a.rec.events.map(key)).size).toBe(1000);
    // each instance's own appends keep their order
    const fromA = a.rec.events.filter((e) => key(e).startsWith('A')).map((e) => (e.data as { n: number }).n);
    expect(fromA).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('reads history in pages after a position', async () => {
    prefix = uniquePrefix();
    const a = await open();
    for (let i = 1; i <= 25; i++) await a.log.append([alert(i)]);
    const epoch = a.log.epoch;
    const page = async (after: number) => {
      const r = await a.log.readAfter(epoch, after, 10);
      if (!r.ok) throw new Error(`unexpected ${r.reason}`);
      return r.events.map((e) => e.seq);
    };
    expect(await page(0)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await page(10)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(await page(20)).toEqual([21, 22, 23, 24, 25]);
    expect(await page(25)).toEqual([]);
    const r = await a.log.readAfter(epoch, 24, 10);
    expect(r).toEqual({ ok: true, events: [{ ...alert(25), timestamp: expect.any(String), topic: 'alerts', seq: 25, json: JSON.stringify(alert(25).data) }] });
  });

  it('bounds a history page by bytes as well as by count (at least one event)', async () => {
    prefix = uniquePrefix();
    const a = await open();
    const big = (n: number) => ({ ...alert(n), data: { message: 'x'.repeat(10_000), n } });
    await a.log.append(Array.from({ length: 10 }, (_, i) => big(i + 1)));
    const r = await a.log.readAfter(a.log.epoch, 0, 100, 25_000);
    expect(r.ok && r.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    const one = await a.log.readAfter(a.log.epoch, 0, 100, 1);
    expect(one.ok && one.events.map((e) => e.seq)).toEqual([1]);
  });

  it('answers history_expired for a position older than historySize events', async () => {
    prefix = uniquePrefix();
    const a = await open({ historySize: 5 });
    for (let i = 1; i <= 10; i++) await a.log.append([alert(i)]);
    expect(await a.log.readAfter(a.log.epoch, 4, 100)).toEqual({ ok: false, reason: 'history_expired' });
    expect(await a.log.readAfter(a.log.epoch, 0, 100)).toEqual({ ok: false, reason: 'history_expired' });
    const r = await a.log.readAfter(a.log.epoch, 5, 100);
    expect(r.ok && r.events.map((e) => e.seq)).toEqual([6, 7, 8, 9, 10]);
  });

  it('answers history_expired once the events after a position are older than historyTtl', async () => {
    prefix = uniquePrefix();
    const a = await open({ historyTtl: 300 });
    await a.log.append([alert(1)]);
    await a.log.append([alert(2)]);
    const r = await a.log.readAfter(a.log.epoch, 0, 10);
    expect(r.ok && r.events.length).toBe(2);
    await waitFor(async () => {
      const x = await a.log.readAfter(a.log.epoch, 0, 10);
      return !x.ok && x.reason === 'history_expired';
    }, 3000, 'the history to expire');
    // nothing missed after the last event: still covered
    expect(await a.log.readAfter(a.log.epoch, 2, 10)).toEqual({ ok: true, events: [] });
  });

  it('answers epoch_mismatch for another epoch or a seq beyond the log', async () => {
    prefix = uniquePrefix();
    const a = await open();
    await a.log.append([alert(1)]);
    expect(await a.log.readAfter('another-epoch', 0, 10)).toEqual({ ok: false, reason: 'epoch_mismatch' });
    expect(await a.log.readAfter(a.log.epoch, 2, 10)).toEqual({ ok: false, reason: 'epoch_mismatch' });
  });

  it('starts a new epoch when Redis loses the log, tells onReset, and restarts the seq', async () => {
    prefix = uniquePrefix();
    const a = await open();
    const b = await open();
    await a.log.append([alert(1)]);
    await a.log.append([alert(2)]);
    await waitFor(() => b.rec.events.length === 2);
    const oldEpoch = a.log.epoch;
    await redis.del([`{${prefix}}:log`, `{${prefix}}:events`]); // what a flush or a restart without persistence does
    await a.log.append([alert(3)]);
    await waitFor(() => a.rec.resets.length > 0 && b.rec.resets.length > 0, 5000, 'both to reset');
    expect(a.log.epoch).not.toBe(oldEpoch);
    expect(b.log.epoch).toBe(a.log.epoch);
    expect(a.rec.resets).toEqual([{ epoch: a.log.epoch, reason: 'epoch_changed' }]);
    await b.log.append([alert(4)]);
    await waitFor(() => [a, b].every((x) => x.rec.events.some((e) => (e.data as { n: number }).n === 4)));
    // both deliver the new epoch from its first seq, including what was committed before they noticed it
    for (const x of [a, b]) {
      expect(x.rec.events.map((e) => [e.seq, (e.data as { n: number }).n])).toEqual([[1, 1], [2, 2], [1, 3], [2, 4]]);
    }
    expect(await a.log.readAfter(oldEpoch, 2, 10)).toEqual({ ok: false, reason: 'epoch_mismatch' });
    const r = await a.log.readAfter(a.log.epoch, 0, 10);
    expect(r.ok && r.events.map((e) => (e.data as { n: number }).n)).toEqual([3, 4]);
  });

  it('delivers a legacy broadcast message once on each instance and sequences it once', async () => {
    prefix = uniquePrefix();
    const a = await open();
    const b = await open();
    const c = await open();
    await redis.publish(`${prefix}:broadcast`, legacy('trade_executed', trade, '2026-11-25T17:17:34.969880'));
    const handled = (m: ReturnType<typeof memoryLogger>) => m.lines.filter((l) => l.message.startsWith('Redis: legacy message'));
    await waitFor(() => [a, b, c].every((x) => handled(x.mem).length === 1), 5000, 'all three to handle the message');
    await waitFor(() => [a, b, c].every((x) => x.rec.events.length === 1));
    const sequenced = [a, b, c].filter((x) => handled(x.mem)[0]!.message.includes('sequenced as 1'));
    expect(sequenced).toHaveLength(1);
    for (const x of [a, b, c]) {
      expect(x.rec.events).toEqual([
        { type: 'trade_executed', topic: 'executions', seq: 1, data: trade, timestamp: '2026-11-25T17:17:34.969880', json: JSON.stringify(trade) },
      ]);
    }
    expect(await redis.xLen(`{${prefix}}:events`)).toBe(1);
  });

  it('bridges our events out in the SIGMAX 2.0 format, and no instance ingests them back', async () => {
    prefix = uniquePrefix();
    const a = await open();
    const b = await open();
    const heard: string[] = [];
    const sub = redis.duplicate();
    sub.on('error', () => {});
    await sub.connect();
    try {
      await sub.subscribe(`${prefix}:broadcast`, (m) => void heard.push(m));
      await a.log.append([{ type: 'trade_executed', data: trade, timestamp: '2026-11-30T10:00:00.000Z' }]);
      await waitFor(() => heard.length === 1 && b.rec.events.length === 1);
      // what a SIGMAX 2.0 instance or Python consumer reads: {"topic", "message": {type, data, timestamp}} (+ our mark)
      expect(JSON.parse(heard[0]!)).toEqual({
        topic: 'executions',
        message: { type: 'trade_executed', data: trade, timestamp: '2026-11-30T10:00:00.000Z' },
        sigmax_ws: 1,
      });
      await b.log.append([alert(2)]); // a marker: whatever B would have re-ingested is there before it
      await waitFor(() => a.rec.events.length === 2 && b.rec.events.length === 2);
      await new Promise((r) => setTimeout(r, 100));
      expect(a.rec.seqs()).toEqual([1, 2]);
      expect(b.rec.seqs()).toEqual([1, 2]);
      expect(await redis.xLen(`{${prefix}}:events`)).toBe(2);
      expect(heard).toHaveLength(2);
    } finally {
      sub.destroy();
    }
    // switched off: nothing is published
    const c = await open({ bridge: false, keyPrefix: `${prefix}:quiet` });
    const quiet: string[] = [];
    const sub2 = redis.duplicate();
    sub2.on('error', () => {});
    await sub2.connect();
    try {
      await sub2.subscribe(`${prefix}:quiet:broadcast`, (m) => void quiet.push(m));
      await c.log.append([alert(3)]);
      await waitFor(() => c.rec.events.length === 1);
      await new Promise((r) => setTimeout(r, 100));
      expect(quiet).toEqual([]);
    } finally {
      sub2.destroy();
      await deleteKeys(redis, `${prefix}:quiet`);
    }
  });

  it('mixed fleet: the original SIGMAX double publish (two topics) is sequenced once; a genuine repeat is not dropped', async () => {
    prefix = uniquePrefix();
    const a = await open();
    const b = await open();
    const analysis = { symbol: 'BTC/USDT', decision: 'buy', confidence: 0.8, bull_score: 0.7, bear_score: 0.2 };
    const message = { type: 'analysis_update', data: analysis, timestamp: '2026-11-30T10:00:00.000000' };
    // SIGMAX 2.0 publishes one analysis_update for topic `analysis` and again for `symbol:BTC/USDT`
    await redis.publish(`${prefix}:broadcast`, JSON.stringify({ topic: 'analysis', message }));
    await redis.publish(`${prefix}:broadcast`, JSON.stringify({ topic: 'symbol:BTC/USDT', message }));
    await waitFor(() => a.rec.events.length >= 1 && b.rec.events.length >= 1);
    // the same content again later (another timestamp) is a new event
    const again = { ...message, timestamp: '2026-11-30T10:00:05.000000' };
    await redis.publish(`${prefix}:broadcast`, JSON.stringify({ topic: 'analysis', message: again }));
    await redis.publish(`${prefix}:broadcast`, JSON.stringify({ topic: 'symbol:BTC/USDT', message: again }));
    await waitFor(() => a.rec.events.length >= 2 && b.rec.events.length >= 2);
    await b.log.append([alert(9)]); // marker
    await waitFor(() => a.rec.events.length >= 3 && b.rec.events.length >= 3);
    await new Promise((r) => setTimeout(r, 100));
    for (const x of [a, b]) {
      expect(x.rec.events.map((e) => [e.seq, e.type, e.timestamp])).toEqual([
        [1, 'analysis_update', message.timestamp],
        [2, 'analysis_update', again.timestamp],
        [3, 'alert', expect.any(String)],
      ]);
    }
  });

  it('ignores invalid legacy messages with a warning', async () => {
    prefix = uniquePrefix();
    const a = await open();
    const channel = `${prefix}:broadcast`;
    await redis.publish(channel, 'not json');
    await redis.publish(channel, JSON.stringify({ topic: 'alerts' }));
    await redis.publish(channel, legacy('subscribed', { topics: [], symbols: [] }));
    await redis.publish(channel, legacy('trade_executed', { symbol: 'BTC/USDT' }));
    // Nesting that JSON.parse accepts but JSON.stringify cannot write back (it throws a RangeError).
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    await redis.publish(channel, `{"topic":"alerts","message":{"type":${deep}}}`);
    await redis.publish(channel, `{"topic":"alerts","message":{"type":"alert","data":{"message":"x","deep":${deep}}}}`);
    await redis.publish(channel, legacy('alert', { message: 'control' }, '2026-11-25T17:17:34\u001f'));
    await redis.publish(channel, legacy('alert', { message: 'ok' }));
    await waitFor(() => a.rec.events.length === 1);
    const warnings = a.mem.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warnings).toHaveLength(7);
    expect(warnings.join('\n')).toMatch(
      /not JSON[\s\S]*expected \{"topic"[\s\S]*not a published event type: "subscribed"[\s\S]*trade_executed data[\s\S]*not a published event type: object[\s\S]*cannot be serialised[\s\S]*timestamp must be/,
    );
    expect(a.log.status().connected).toBe(true); // not pushed into the local fallback
    expect(a.rec.events[0]).toMatchObject({ type: 'alert', seq: 1 });
  });

  it('reports a gap (onReset) when an instance falls behind by more than the stream retains', async () => {
    prefix = uniquePrefix();
    const proxy = new TcpProxy(Number(new URL(REDIS_URL).port || 6379));
    await proxy.start();
    try {
      const a = await open({ historySize: 10 });
      const b = await open({ historySize: 10, url: `redis://127.0.0.1:${proxy.port}` });
      await a.log.append([alert(0)]);
      await waitFor(() => b.rec.events.length === 1);
      proxy.blackhole(true); // B's connections stay open but hear nothing
      await Promise.all(Array.from({ length: 1500 }, (_, i) => a.log.append([alert(i + 1)])));
      proxy.blackhole(false);
      proxy.cutAll(); // B reconnects, finds the same epoch, and reads on from seq 1
      await waitFor(() => b.log.status().lastSeq === 1501, 10_000, 'B to catch up');
      expect(b.rec.resets).toEqual([{ epoch: a.log.epoch, reason: 'gap' }]);
      const seqs = b.rec.seqs();
      expect(seqs[1]).toBeGreaterThan(2); // the trimmed ones were skipped, and that was reported
      expect(seqs.slice(1)).toEqual(Array.from({ length: 1501 - seqs[1]! + 1 }, (_, i) => seqs[1]! + i));
      expect(a.rec.resets).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('rejects an append whose data JSON cannot hold, and stays on the shared log', async () => {
    prefix = uniquePrefix();
    const a = await open();
    const bad = { ...alert(1), data: { message: 'x', big: 1n } };
    await expect(a.log.append([bad])).rejects.toThrow(/cannot be serialised/);
    const epoch = a.log.epoch;
    await a.log.append([alert(2)]);
    await waitFor(() => a.rec.events.length === 1);
    expect(a.rec.events[0]).toMatchObject({ seq: 1, data: { n: 2 } });
    expect(a.log.status()).toMatchObject({ connected: true, epoch });
    expect(a.rec.resets).toEqual([]);
  });

  it('appends an event id once: a retry after a lost reply resolves as a duplicate', async () => {
    prefix = uniquePrefix();
    const s = script(APPEND_SCRIPT);
    // ids live in time buckets: KEYS[3] the current one, KEYS[4] the previous one, KEYS[5] the next one
    const keys = (bucket: number) => [`{${prefix}}:log`, `{${prefix}}:events`, `{${prefix}}:ids:${bucket}`, `{${prefix}}:ids:${bucket - 1}`, `{${prefix}}:ids:${bucket + 1}`];
    // each call its own batch token; per event: meta (flags, type, topic, timestamp, id), data
    const args = (id: string) => ['E1', '1000', '60000', '60000', '', randomUUID(), `-kalert\x1falerts\x1fts\x1f${id}`, '{}'];
    expect(await runScript(redis, s, keys(1), args('id-1'))).toEqual(['E1', 1]);
    expect(await runScript(redis, s, keys(1), args('id-1'))).toEqual(['E1', -1]); // known: not appended again
    expect(await runScript(redis, s, keys(2), args('id-1'))).toEqual(['E1', -1]); // still known in the next bucket
    expect(await runScript(redis, s, keys(3), args('id-1'))).toEqual(['E1', 2]); // forgotten two buckets later
    expect(await runScript(redis, s, keys(3), args('id-2'))).toEqual(['E1', 3]);
    expect(await redis.xLen(`{${prefix}}:events`)).toBe(3);
    // through the log: the same id twice, in one batch and in another call
    const a = await open();
    const e = { ...alert(7), id: 'same' };
    expect(await a.log.append([e, e])).toEqual([{ seq: 4, duplicate: false }, { seq: 4, duplicate: true }]);
    expect(await a.log.append([e])).toEqual([{ seq: 4, duplicate: true }]);
    await waitFor(() => a.rec.events.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.rec.seqs()).toEqual([4]);
  });

  it('an id is appended once across instances whose clocks put it in neighbouring time buckets', async () => {
    prefix = uniquePrefix();
    const a = await open();
    const b = await open();
    const bucketMs = 60_000; // ingestDedupeTtl's default
    const now = Date.now();
    // B's clock is ahead by a few ms across a bucket boundary, A's is not: they compute buckets n + 1 and n.
    const boundary = (Math.floor(now / bucketMs) + 1) * bucketMs;
    const clock = vi.spyOn(Date, 'now');
    try {
      clock.mockReturnValue(boundary + 5);
      expect(await b.log.append([{ ...alert(1), id: 'legacy:same' }])).toEqual([{ seq: 1, duplicate: false }]);
      clock.mockReturnValue(boundary - 5);
      expect(await a.log.append([{ ...alert(1), id: 'legacy:same' }])).toEqual([{ seq: 1, duplicate: true }]);
    } finally {
      clock.mockRestore();
    }
    await a.log.append([alert(2)]);
    await waitFor(() => a.rec.events.length === 2 && b.rec.events.length === 2);
    expect(b.rec.seqs()).toEqual([1, 2]);
  });

  it('a log with no run id recorded (written by an earlier build) is adopted, not taken for a restart', async () => {
    prefix = uniquePrefix();
    const a = await open();
    await a.log.append([alert(1)]);
    await redis.hDel(`{${prefix}}:log`, 'run');
    const b = await open();
    expect(b.log.epoch).toBe(a.log.epoch);
    expect(await redis.hGet(`{${prefix}}:log`, 'run')).toMatch(/^[0-9a-f]{40}$/);
    expect(await b.log.append([alert(2)])).toEqual([{ seq: 2, duplicate: false }]);
    await waitFor(() => a.rec.events.length === 2);
    expect(a.rec.resets).toEqual([]);
  });

  it('a retried batch (same token) appends nothing and answers as before; only publisher ids are remembered', async () => {
    prefix = uniquePrefix();
    const s = script(APPEND_SCRIPT);
    const keys = [`{${prefix}}:log`, `{${prefix}}:events`, `{${prefix}}:ids:1`, `{${prefix}}:ids:0`, `{${prefix}}:ids:2`];
    const meta = (flags: string, id: string) => `${flags}alert\x1falerts\x1fts\x1f${id}`;
    const batch = (token: string) => ['E1', '1000', '60000', '60000', '', token, meta('--', `${token}.0`), '{"n":1}', meta('-k', 'mine'), '{"n":2}', meta('--', `${token}.2`), '{"n":3}'];
    expect(await runScript(redis, s, keys, batch('T1'))).toEqual(['E1', 1, 2, 3]);
    expect(await runScript(redis, s, keys, batch('T1'))).toEqual(['E1', -1, -2, -3]); // the retry: all duplicates
    expect(await redis.xLen(`{${prefix}}:events`)).toBe(3);
    // another batch with the same content: the log's own ids are not deduplicated, the publisher's is
    expect(await runScript(redis, s, keys, batch('T2'))).toEqual(['E1', 4, -2, 5]);
    expect(await runScript(redis, s, keys, batch('T2'))).toEqual(['E1', -4, -2, -5]);
    // a publisher id new in the batch: its retry answers with the seq it got, and the others' follow
    const mixed = ['E1', '1000', '60000', '60000', '', 'T3', meta('-k', 'new'), '{}', meta('--', 'T3.1'), '{}', meta('-k', 'new'), '{}'];
    expect(await runScript(redis, s, keys, mixed)).toEqual(['E1', 6, 7, -6]);
    expect(await runScript(redis, s, keys, mixed)).toEqual(['E1', -6, -7, -6]);
    expect(await redis.xLen(`{${prefix}}:events`)).toBe(7);
    expect(Object.keys(await redis.hGetAll(`{${prefix}}:ids:1`)).sort()).toEqual(['T1', 'T2', 'T3', 'mine', 'new']);
  });

  it('keeps any id and the data exact through the stream: spaces, control characters, non-ASCII', async () => {
    prefix = uniquePrefix();
    const a = await open();
    const id = 'a b\x1fc ü 🚀';
    const e = { ...alert(1), id };
    expect(await a.log.append([e])).toEqual([{ seq: 1, duplicate: false }]);
    expect(await a.log.append([e])).toEqual([{ seq: 1, duplicate: true }]);
    await waitFor(() => a.rec.events.length === 1);
    expect(a.rec.events[0]).toMatchObject({ seq: 1, type: 'alert', topic: 'alerts', timestamp: e.timestamp, data: e.data });
    const store = new RedisLogStore({ prefix, historySize: 10, historyTtl: 60_000, timeout: 2000, idTtl: 60_000, bridge: false, logger: memoryLogger().logger });
    expect(await store.inspect(redis, 1)).toMatchObject({ seq: 1, idAt: id, firstSeq: 1 });
    const read = await a.log.readAfter(a.log.epoch, 0, 10);
    expect(read).toMatchObject({ ok: true, events: [{ seq: 1, timestamp: e.timestamp, data: e.data }] });
    // a timestamp with a control character is refused (the entry header ends the timestamp with one)
    await expect(a.log.append([{ ...alert(2), timestamp: 'x\x1fy' }])).rejects.toThrow(/control character/);
  });

  it('an entry it cannot decode (foreign or corrupt) is an explicit gap, live and in history, never a silent hole', async () => {
    prefix = uniquePrefix();
    const a = await open();
    await a.log.append([alert(1)]);
    await waitFor(() => a.rec.events.length === 1);
    // seq 2 written by something else: another format, or damaged
    await redis.sendCommand(['XADD', `{${prefix}}:events`, '2-0', 'h', 'not a header', 'd', '{}']);
    await redis.hSet(`{${prefix}}:log`, 'seq', '2');
    await a.log.append([alert(3)]);
    await waitFor(() => a.rec.events.length === 2, 3000, 'the event after the undecodable one');
    expect(a.rec.seqs()).toEqual([1, 3]);
    expect(a.rec.resets).toEqual([{ epoch: a.log.epoch, reason: 'gap' }]);
    expect(a.mem.lines.some((l) => l.level === 'warn' && l.message.includes('undecodable stream entry 2-0'))).toBe(true);
    // a client resuming from seq 1 cannot be given seq 2: it is told its history expired (recovered: false)
    expect(await a.log.readAfter(a.log.epoch, 1, 10)).toEqual({ ok: false, reason: 'history_expired' });
    expect(await a.log.readAfter(a.log.epoch, 2, 10)).toMatchObject({ ok: true, events: [{ seq: 3 }] });
  });

  it('history reads reuse the events this instance delivered (their frames are built once for every resuming session)', async () => {
    prefix = uniquePrefix();
    const a = await open();
    await a.log.append([alert(1), alert(2), alert(3)]);
    await waitFor(() => a.rec.events.length === 3);
    const first = await a.log.readAfter(a.log.epoch, 0, 10);
    const again = await a.log.readAfter(a.log.epoch, 1, 10);
    if (!first.ok || !again.ok) throw new Error('history read failed');
    expect(first.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    for (let i = 0; i < 3; i++) expect(first.events[i]).toBe(a.rec.events[i]);
    expect(again.events[0]).toBe(a.rec.events[1]);
    // what this instance did not deliver (here: another instance's log before it started) is read from Redis as before
    const b = await open();
    const fromB = await b.log.readAfter(b.log.epoch, 0, 10);
    if (!fromB.ok) throw new Error('history read failed');
    expect(fromB.events.map((e) => [e.seq, e.json])).toEqual(a.rec.events.map((e) => [e.seq, e.json]));
    expect(fromB.events[0]).not.toBe(a.rec.events[0]);
  });

  it('refuses append before start and after close, and close is idempotent', async () => {
    prefix = uniquePrefix();
    const log = new RedisEventLog({ url: REDIS_URL, keyPrefix: prefix, historySize: 10, historyTtl: 1000 });
    await expect(log.append([alert(1)])).rejects.toThrow(/start/);
    await log.start(() => {});
    await log.close();
    await log.close();
    await expect(log.append([alert(1)])).rejects.toThrow(/closed/);
    expect(() => new RedisEventLog({ url: '', historySize: 1, historyTtl: 1 })).toThrow(/url/);
    expect(() => new RedisEventLog({ url: REDIS_URL, historySize: -1, historyTtl: 1 })).toThrow(/historySize/);
  });
});
