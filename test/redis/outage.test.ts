import { afterEach, describe, expect, it } from 'vitest';
import { ClientClosedError, ClientOfflineError, DisconnectsClientError, ErrorReply, SocketClosedUnexpectedlyError } from 'redis';
import { RedisEventLog, certainlyNotRun } from '../../src/server/log/redis.js';
import type { NewEvent } from '../../src/server/log/types.js';
import { PrivateRedis, Recorder, certainRefusal, memoryLogger, testClient, waitFor } from './helpers.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLogUnavailableError } from '../../src/server/errors.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

/** These tests run their own redis-server (never the shared one); they need the binary. */
function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error('redis-server is not installed and CI=true: Redis outage tests must run');
    process.stderr.write('[redis outage tests] SKIPPED: redis-server binary not found\n');
    return false;
  }
}
const canRun = hasRedisServer();

const alert = (n: number): NewEvent => ({ type: 'alert', data: { message: `m${n}`, n }, timestamp: new Date().toISOString() });
const ns = (r: Recorder) => r.events.map((e) => (e.data as { n: number }).n);

describe('what an append error says about its outcome', () => {
  it('an error node-redis raises before sending (client offline or closed) or a Redis error reply: certainly not run', () => {
    expect(certainlyNotRun(new ClientOfflineError())).toBe(true);
    expect(certainlyNotRun(new ClientClosedError())).toBe(true);
    expect(certainlyNotRun(new ErrorReply('OOM command not allowed'))).toBe(true);
  });

  it('a connection lost or dropped with the command in flight, or no answer: unknown', () => {
    expect(certainlyNotRun(new DisconnectsClientError())).toBe(false);
    expect(certainlyNotRun(new SocketClosedUnexpectedlyError())).toBe(false);
    expect(certainlyNotRun(new Error('Socket closed unexpectedly'))).toBe(false);
  });
});

describe.skipIf(!canRun)('RedisEventLog when Redis goes away', () => {
  const servers: PrivateRedis[] = [];
  const logs: RedisEventLog[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(logs.splice(0).map((l) => l.close()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A temporary directory for a Redis's persistence files, removed after the test. */
  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'sigmax-redis-'));
    dirs.push(dir);
    return dir;
  }

  /**
   * A log on a Redis that saves snapshots: events 1..3 are in the snapshot, 4 and 5 are delivered after it (so a restart
   * from the snapshot loses them).
   */
  async function snapshotThenTail() {
    const redis = await startRedis(['--dir', tempDir(), '--dbfilename', 'dump.rdb']);
    const a = await open(redis.url);
    await a.log.append([alert(1), alert(2), alert(3)]);
    const admin = await testClient(redis.url);
    await admin.sendCommand(['SAVE']);
    admin.destroy();
    await a.log.append([alert(4), alert(5)]);
    await waitFor(() => a.rec.events.length === 5);
    return { redis, a, lost: a.log.epoch };
  }

  /** A private redis-server, stopped after the test. */
  async function startRedis(args: string[] = []): Promise<PrivateRedis> {
    const redis = new PrivateRedis(args);
    servers.push(redis);
    await redis.start();
    return redis;
  }

  async function open(url: string, commandTimeout?: number) {
    const rec = new Recorder();
    const mem = memoryLogger();
    const log = new RedisEventLog({
      url,
      keyPrefix: 'outage',
      historySize: 100,
      historyTtl: 60_000,
      logger: mem.logger,
      onReset: rec.onReset,
      reconnectMaxDelay: 200,
      commandTimeout,
    });
    logs.push(log);
    await log.start(rec.onEvent);
    return { log, rec, mem };
  }

  it('refuses appends while Redis is down (not appended), and delivers again once it is back', async () => {
    const redis = await startRedis();
    const a = await open(redis.url);
    const b = await open(redis.url);
    const sharedEpoch = a.log.epoch;
    await a.log.append([alert(1)]);
    await waitFor(() => a.rec.events.length === 1 && b.rec.events.length === 1);
    expect(a.log.status()).toMatchObject({ connected: true, epoch: sharedEpoch, lastSeq: 1 });

    await redis.stop();
    await waitFor(() => !a.log.status().connected, 5000, 'status to show Redis down');
    const err = await certainRefusal(() => a.log.append([{ ...alert(2), id: 'two' }]));
    expect(err).toBeInstanceOf(EventLogUnavailableError);
    expect(err).toMatchObject({ code: 'EVENT_LOG_UNAVAILABLE', outcome: 'not_appended' });
    expect(ns(a.rec)).toEqual([1]); // nothing delivered that the shared log does not hold

    await redis.start(); // same port, empty (no persistence): a new shared epoch
    await waitFor(() => a.log.status().connected && b.log.status().connected, 10_000, 'both to reconnect');
    expect(a.rec.resets).toEqual([{ epoch: a.log.epoch, reason: 'epoch_changed' }]);
    expect(b.rec.resets).toEqual([{ epoch: a.log.epoch, reason: 'epoch_changed' }]);
    expect(a.log.epoch).not.toBe(sharedEpoch);
    expect(b.log.epoch).toBe(a.log.epoch);
    expect(await a.log.append([{ ...alert(2), id: 'two' }])).toEqual([{ seq: 1, duplicate: false }]);
    await waitFor(() => ns(a.rec).includes(2) && ns(b.rec).includes(2), 5000, 'event 2 on both');
    expect(a.rec.events.at(-1)!.seq).toBe(1);
    const warnings = a.mem.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warnings.some((m) => m.startsWith('Redis connection lost'))).toBe(true);
    expect(a.mem.lines.some((l) => l.message === 'Redis connection restored')).toBe(true);
  });

  it('rides out dropped connections: same epoch, no reset, nothing lost or duplicated', async () => {
    const redis = await startRedis();
    const a = await open(redis.url);
    await a.log.append([alert(1)]);
    await waitFor(() => a.rec.events.length === 1);
    const epoch = a.log.epoch;
    // A client-kill drops the connections; Redis keeps its data (same epoch).
    const admin = await testClient(redis.url);
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
    admin.destroy();
    await waitFor(() => a.log.status().connected, 5000);
    await a.log.append([alert(2)]);
    await waitFor(() => a.rec.events.length === 2);
    expect(a.log.epoch).toBe(epoch);
    expect(a.rec.seqs()).toEqual([1, 2]);
    expect(a.rec.resets).toEqual([]);
  });

  it('a Redis restarted from a snapshot that lost the tail gets a new epoch, even when no running instance delivered the tail', async () => {
    // 4 and 5 acknowledged, delivered to clients as (E1, 5), then lost with Redis
    const { redis, a, lost } = await snapshotThenTail();
    // The whole fleet restarts with Redis (a host reboot): no process remembers seq 5.
    await a.log.close();
    await redis.stop();
    await redis.start();
    const fresh = await open(redis.url);
    expect(fresh.log.epoch).not.toBe(lost);
    await fresh.log.append([alert(6), alert(7), alert(8)]);
    // A client resuming from (E1, 5) is told its epoch is gone: it cannot be handed seq 6 of another history as if it followed 5.
    expect(await fresh.log.readAfter(lost, 5, 10)).toEqual({ ok: false, reason: 'epoch_mismatch' });
    expect(fresh.mem.lines.some((l) => l.level === 'warn' && /Redis restarted/.test(l.message))).toBe(true);
  });

  it('between a Redis restart and the check of the log, nothing is appended to it or read from it', async () => {
    const { redis, a, lost } = await snapshotThenTail();
    await redis.stop();
    await redis.start(); // seq 3 again, in the same epoch: 4 and 5 are lost
    // Publishers retry at once; a client that saw seq 5 resumes. Until the log is checked, neither may touch it.
    const resumed: unknown[] = [];
    const accepted: number[] = [];
    let n = 100;
    const deadline = Date.now() + 10_000;
    while (a.log.epoch === lost && Date.now() < deadline) {
      const k = n++;
      await a.log.append([alert(k)]).then(() => void accepted.push(k), () => {});
      const r = await a.log.readAfter(lost, 5, 10);
      if (r.ok) resumed.push(r);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(resumed).toEqual([]);
    await waitFor(() => a.rec.resets.length === 1);
    expect(a.rec.resets).toEqual([{ epoch: a.log.epoch, reason: 'epoch_changed' }]);
    // Whatever was accepted went to the checked log, the new epoch: every one is delivered.
    await a.log.append([alert(999)]);
    await waitFor(() => a.rec.events.some((e) => (e.data as { n: number }).n === 999), 5000, 'the marker');
    const delivered = new Set(a.rec.events.map((e) => (e.data as { n: number }).n));
    expect(accepted.filter((k) => !delivered.has(k))).toEqual([]);
  });

  it('the check after a restart needs no memory: a Redis out of memory (noeviction) still gets its new epoch, or keeps its log', async () => {
    const redis = await startRedis();
    const a = await open(redis.url);
    await a.log.append([alert(1)]);
    const epoch = a.log.epoch;
    const admin = await testClient(redis.url);
    try {
      await admin.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
      /** Records a run id in the log ('' = none), then makes Redis refuse every write that may grow memory. */
      const recordThenOom = async (run: string) => {
        await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '0']);
        await admin.sendCommand(run ? ['HSET', '{outage}:log', 'run', run] : ['HDEL', '{outage}:log', 'run']);
        await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '1']);
      };
      // No run id recorded (an earlier build): this one is recorded, the log kept.
      await recordThenOom('');
      const b = await open(redis.url);
      await waitFor(() => b.log.status().connected, 3000, 'B to check the log');
      expect(b.log.epoch).toBe(epoch);
      // Another process's run id: Redis restarted since, without persisting every write.
      await recordThenOom('f'.repeat(40));
      const c = await open(redis.url);
      await waitFor(() => c.log.status().connected, 3000, 'C to check the log');
      expect(c.log.epoch).not.toBe(epoch);
    } finally {
      admin.destroy();
    }
  });

  it('an append retried after its reply was lost with a restarting Redis waits for the check, and is delivered', async () => {
    const dir = tempDir();
    const redis = await startRedis(['--dir', dir, '--dbfilename', 'dump.rdb']);
    const proxy = new TcpProxy(redis.port);
    await proxy.start();
    try {
      const a = await open(`redis://127.0.0.1:${proxy.port}`, 5000); // room for the restart within one command timeout
      await a.log.append([alert(1)]);
      const admin = await testClient(redis.url);
      await admin.sendCommand(['SAVE']);
      // Redis runs the script, its reply is lost, and Redis restarts from the snapshot without it.
      proxy.dropReplies(true);
      const appending = a.log.append([alert(2)]);
      await waitFor(async () => Number(await admin.hGet('{outage}:log', 'seq')) === 2, 2000);
      admin.destroy();
      await redis.stop();
      proxy.cutAll();
      proxy.dropReplies(false);
      await redis.start();
      // Retried once the log is checked (a new epoch: the restored one may have lost it), it is delivered.
      const [r] = await appending;
      expect(r).toMatchObject({ duplicate: false });
      await waitFor(() => a.rec.events.some((e) => (e.data as { n: number }).n === 2), 5000, 'the retried event to be delivered');
      expect(a.rec.resets).toEqual([{ epoch: a.log.epoch, reason: 'epoch_changed' }]);
    } finally {
      await proxy.close();
    }
  });

  it('a failover to a replica that missed acknowledged events starts a new epoch, even when the replica persists every write', async () => {
    const dir = tempDir();
    const primary = await startRedis(['--repl-diskless-sync-delay', '0']);
    const replica = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--replicaof', '127.0.0.1', String(primary.port)]);
    const admin = await testClient(replica.url);
    try {
      // The replica has been up a while when the log is created on the primary.
      await waitFor(async () => /^uptime_in_seconds:([2-9]|\d\d)/m.test(String(await admin.sendCommand(['INFO', 'server']))), 4000);
      const a = await open(primary.url);
      await a.log.append([alert(1), alert(2)]);
      await waitFor(async () => Number(await admin.hGet('{outage}:log', 'seq')) === 2, 3000, 'the replica to have seq 2');
      replica.pause(); // replication lags: what follows reaches the primary only
      await a.log.append([alert(3), alert(4)]);
      await waitFor(() => a.rec.events.length === 4);
      const lost = a.log.epoch;
      await a.log.close();
      await primary.stop();
      replica.resume();
      await admin.sendCommand(['REPLICAOF', 'NO', 'ONE']); // promoted; the fleet restarts against it
      const fresh = await open(replica.url);
      expect(fresh.log.epoch).not.toBe(lost);
      await fresh.log.append([alert(30), alert(40)]);
      expect(await fresh.log.readAfter(lost, 4, 10)).toEqual({ ok: false, reason: 'epoch_mismatch' });
      expect(await fresh.log.readAfter(lost, 2, 10)).toEqual({ ok: false, reason: 'epoch_mismatch' });
    } finally {
      admin.destroy();
    }
  });

  it('a Redis restarted from an AOF that persists every write (appendfsync always) keeps the epoch: nothing was lost', async () => {
    const dir = tempDir();
    const redis = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]);
    const a = await open(redis.url);
    await a.log.append([alert(1), alert(2)]);
    const epoch = a.log.epoch;
    await a.log.close();
    await redis.stop();
    await redis.start();
    const fresh = await open(redis.url);
    expect(fresh.log.epoch).toBe(epoch);
    expect(await fresh.log.append([alert(3)])).toEqual([{ seq: 3, duplicate: false }]);
    expect(await fresh.log.readAfter(epoch, 1, 10)).toMatchObject({ ok: true, events: [{ seq: 2 }, { seq: 3 }] });
  });

  it('a batch whose reply was lost with its connection is retried once the connection is back, and appended once', async () => {
    const redis = await startRedis();
    const proxy = new TcpProxy(redis.port);
    await proxy.start();
    try {
      const a = await open(`redis://127.0.0.1:${proxy.port}`);
      await a.log.append([alert(1)]);
      await waitFor(() => a.rec.events.length === 1);
      // Redis runs the script, its reply never arrives, and the connection drops: outcome unknown to the log.
      proxy.dropReplies(true);
      const appending = a.log.append([alert(2), alert(3), { ...alert(4), id: 'mine' }]);
      const admin = await testClient(redis.url);
      await waitFor(async () => Number(await admin.hGet('{outage}:log', 'seq')) === 4, 2000);
      proxy.cutAll();
      proxy.dropReplies(false);
      // The retry (same batch token) appends nothing more and answers with the seqs of the first attempt.
      expect(await appending).toEqual([{ seq: 2, duplicate: true }, { seq: 3, duplicate: true }, { seq: 4, duplicate: true }]);
      await waitFor(() => a.rec.events.length === 4);
      await new Promise((r) => setTimeout(r, 100));
      expect(a.rec.seqs()).toEqual([1, 2, 3, 4]);
      expect(await admin.xLen('{outage}:events')).toBe(4);
      expect(a.rec.resets).toEqual([]);
      admin.destroy();
    } finally {
      await proxy.close();
    }
  });

  it('leaves connections that went silent for good (failover to the same address): degraded, then on the new Redis', async () => {
    const old = new PrivateRedis();
    const next = new PrivateRedis();
    servers.push(old, next);
    await Promise.all([old.start(), next.start()]);
    const proxy = new TcpProxy(old.port);
    await proxy.start();
    try {
      const a = await open(`redis://127.0.0.1:${proxy.port}`, 500);
      await a.log.append([alert(1)]);
      await waitFor(() => a.rec.events.length === 1);
      const epoch = a.log.epoch;
      await new Promise((r) => setTimeout(r, 100)); // the subscription's first PING answered: none in flight below
      proxy.setTarget(next.port);
      proxy.freeze(); // no reset, no reply: TCP alone would wait for minutes
      const failing = a.log.append([alert(2)]).then(
        () => 'appended',
        (e: unknown) => (e as EventLogUnavailableError).outcome,
      );
      await waitFor(() => !a.log.status().connected, 3000);
      expect(await failing).toBe('unknown');
      // within a bound of the command timeout, the log drops those connections and reaches the new Redis
      await waitFor(() => a.log.status().connected && a.log.epoch !== epoch, 8000);
      expect(a.rec.resets).toEqual([{ epoch: a.log.epoch, reason: 'epoch_changed' }]);
      expect(await a.log.append([alert(3)])).toEqual([{ seq: 1, duplicate: false }]);
      await waitFor(() => a.rec.events.length === 2);
      expect(a.rec.events.map((e) => [e.seq, (e.data as { n: number }).n])).toEqual([[1, 1], [1, 3]]);
      // the legacy feed is subscribed again on the new connections
      const admin = await testClient(next.url);
      await admin.publish('outage:broadcast', JSON.stringify({ topic: 'alerts', message: { type: 'alert', data: { message: 'legacy', n: 4 }, timestamp: new Date().toISOString() } }));
      admin.destroy();
      await waitFor(() => a.rec.events.length === 3);
      expect(a.rec.events[2]).toMatchObject({ seq: 2, data: { n: 4 } });
    } finally {
      await proxy.close();
    }
  });

  it('the legacy subscription going silent alone is noticed (PING) and made again on new connections', async () => {
    const redis = await startRedis();
    const proxy = new TcpProxy(redis.port);
    await proxy.start();
    const admin = await testClient(redis.url);
    const legacy = (n: number) =>
      admin.publish('outage:broadcast', JSON.stringify({ topic: 'alerts', message: { type: 'alert', data: { message: 'legacy', n }, timestamp: `2026-12-01T00:00:0${n}Z` } }));
    try {
      const a = await open(`redis://127.0.0.1:${proxy.port}`, 300);
      await legacy(1);
      await waitFor(() => a.rec.events.length === 1);
      expect(proxy.freezeWhere('SUBSCRIBE')).toBe(1); // only the subscription's connection goes silent
      await waitFor(() => a.mem.lines.some((l) => /no reply to PING/.test(l.message)), 4000, 'the silent subscription to be noticed');
      await waitFor(() => a.log.status().connected, 4000);
      // heard again once the new connection has subscribed (the same message repeated is sequenced once)
      await waitFor(async () => (await legacy(2), a.rec.events.length === 2), 4000, 'the legacy feed to be heard again');
      await new Promise((r) => setTimeout(r, 200));
      expect(a.rec.events.map((e) => [e.seq, (e.data as { n: number }).n])).toEqual([[1, 1], [2, 2]]);
      expect(a.rec.resets).toEqual([]);
    } finally {
      admin.destroy();
      await proxy.close();
    }
  });

  it('reads large events in replies of about 1 MB, so that a slow link to Redis is not taken for a silent one', async () => {
    const redis = await startRedis();
    const a = await open(redis.url);
    const admin = await testClient(redis.url);
    try {
      const big = (n: number): NewEvent => ({ type: 'alert', data: { message: 'x'.repeat(100_000), n }, timestamp: new Date().toISOString() });
      await a.log.append([big(0)]); // the reader learns the size of the events
      await waitFor(() => a.rec.events.length === 1);
      await admin.sendCommand(['CONFIG', 'RESETSTAT']);
      await a.log.append(Array.from({ length: 60 }, (_, i) => big(i + 1)));
      await waitFor(() => a.rec.events.length === 61, 10_000);
      const info = String(await admin.sendCommand(['INFO', 'commandstats']));
      const xreads = Number(/cmdstat_xread:calls=(\d+)/.exec(info)?.[1] ?? 0);
      expect(xreads).toBeGreaterThanOrEqual(6); // 6 MB of events: at least 6 replies
      expect(a.rec.seqs()).toEqual(Array.from({ length: 61 }, (_, i) => i + 1));
    } finally {
      admin.destroy();
    }
  });

  /** Redis hangs (SIGSTOP) after one event; `whileHung` runs; then it answers again, as the same log. */
  async function hangThenRecover(whileHung: (a: Awaited<ReturnType<typeof open>>) => Promise<void>) {
    const redis = await startRedis();
    const a = await open(redis.url, 300);
    await a.log.append([alert(1)]);
    await waitFor(() => a.rec.events.length === 1);
    const epoch = a.log.epoch;
    redis.pause();
    const err = await a.log.append([{ ...alert(2), id: 'two' }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EVENT_LOG_UNAVAILABLE', outcome: 'unknown' });
    await whileHung(a);
    redis.resume();
    await waitFor(() => a.log.status().connected, 5000, 'the log to recover');
    // The late-executed first attempt landed: the retry finds its id and appends nothing.
    expect(await a.log.append([{ ...alert(2), id: 'two' }])).toEqual([{ seq: 2, duplicate: true }]);
    await a.log.append([alert(3)]);
    await waitFor(() => a.rec.events.length === 3);
    expect(a.rec.events.map((e) => [e.seq, (e.data as { n: number }).n])).toEqual([[1, 1], [2, 2], [3, 3]]);
    expect(a.log.epoch).toBe(epoch);
    expect(a.rec.resets).toEqual([]);
  }

  it('when Redis hangs: outcome unknown, degraded, and a retry with the same id appends exactly once', () =>
    hangThenRecover(async (a) => {
      await waitFor(() => !a.log.status().connected, 3000, 'degraded while Redis hangs');
    }));

  it('a hang longer than the bound: the connections are replaced meanwhile, and Redis is the same log when it answers', () =>
    hangThenRecover(async (a) => {
      // replaced after 1000 + 2 × 300 ms without a reply (or the subscription's PING unanswered); the new ones wait too
      await waitFor(() => a.mem.lines.some((l) => /Redis connection lost \(no reply/.test(l.message)), 4000, 'the connections to be replaced');
      expect(await a.log.append([alert(9)]).catch((e: unknown) => e)).toMatchObject({ outcome: 'not_appended' });
    }));

  it('refuses writes (OOM, read-only replica) as not appended, with no seq consumed', async () => {
    const redis = await startRedis();
    const a = await open(redis.url);
    await a.log.append([alert(1)]);
    const admin = await testClient(redis.url);
    try {
      await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '1mb']);
      await expect(a.log.append([alert(2), alert(3)])).rejects.toMatchObject({ code: 'EVENT_LOG_UNAVAILABLE', outcome: 'not_appended' });
      expect(a.log.status().connected).toBe(false);
      await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '0']);
      await admin.sendCommand(['REPLICAOF', '127.0.0.1', '1']);
      await expect(a.log.append([alert(2), alert(3)])).rejects.toMatchObject({ outcome: 'not_appended', message: /READONLY/ });
      await admin.sendCommand(['REPLICAOF', 'NO', 'ONE']);
      // healthy again without any publish: the reader probes whether Redis takes writes
      await waitFor(() => a.log.status().connected, 5000, 'the log to report writes accepted again');
      expect(await a.log.append([alert(4)])).toEqual([{ seq: 2, duplicate: false }]);
      await waitFor(() => a.rec.events.length === 2);
      expect(a.rec.seqs()).toEqual([1, 2]);
      expect(a.log.status().connected).toBe(true);
    } finally {
      admin.destroy();
    }
  });

  it('starts a new epoch when Redis comes back from an older snapshot: the instance that delivered the lost tail rotates it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigmax-rdb-'));
    const redis = new PrivateRedis(['--dir', dir, '--dbfilename', 'dump.rdb']);
    servers.push(redis);
    try {
      await redis.start();
      const a = await open(redis.url);
      const b = await open(redis.url);
      await a.log.append([alert(1)]);
      const admin = await testClient(redis.url);
      await admin.sendCommand(['SAVE']);
      admin.destroy();
      await a.log.append([alert(2)]);
      await waitFor(() => a.rec.events.length === 2 && b.rec.events.length === 2);
      const epoch = a.log.epoch;
      await redis.stop();
      await redis.start(); // loads the snapshot: same epoch, seq 1
      await waitFor(() => a.log.status().connected && b.log.status().connected && a.log.epoch !== epoch && b.log.epoch === a.log.epoch, 10_000, 'a new epoch on both');
      expect(a.rec.resets.map((r) => r.reason)).toEqual(['epoch_changed']);
      expect(b.rec.resets.map((r) => r.reason)).toEqual(['epoch_changed']);
      await b.log.append([alert(3)]);
      await waitFor(() => a.rec.events.length === 3 && b.rec.events.length === 3);
      expect(a.rec.events.at(-1)).toMatchObject({ seq: 1, data: { n: 3 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sequences legacy messages again once Redis is back (the subscription is restored)', async () => {
    const redis = await startRedis();
    const a = await open(redis.url);
    const b = await open(redis.url);
    await redis.stop();
    await waitFor(() => !a.log.status().connected && !b.log.status().connected);
    await redis.start();
    await waitFor(() => a.log.status().connected && b.log.status().connected, 10_000);
    const admin = await testClient(redis.url);
    const message = { type: 'alert', data: { message: 'from python', n: 7 }, timestamp: '2026-11-25T17:17:34.969880' };
    // the resubscription may land just after the log reports connected: publish until heard
    await waitFor(async () => (await admin.publish('outage:broadcast', JSON.stringify({ topic: 'alerts', message }))) >= 2, 5000);
    await waitFor(() => a.rec.events.length >= 1 && b.rec.events.length >= 1);
    admin.destroy();
    expect(a.rec.events).toEqual([{ ...message, topic: 'alerts', seq: 1, json: JSON.stringify(message.data) }]);
    expect(b.rec.events).toEqual([{ ...message, topic: 'alerts', seq: 1, json: JSON.stringify(message.data) }]);
  });

  it('starts while Redis is down (publishing refused), and joins the shared log when it comes up', async () => {
    const redis = await startRedis();
    await redis.stop(); // keeps the port: nothing listens there now
    const a = await open(redis.url);
    expect(a.log.status().connected).toBe(false);
    await expect(a.log.append([alert(1)])).rejects.toMatchObject({ outcome: 'not_appended' });
    await redis.start();
    await waitFor(() => a.log.status().connected, 10_000, 'the log to connect');
    expect(a.rec.resets).toEqual([{ epoch: a.log.epoch, reason: 'epoch_changed' }]);
    await a.log.append([alert(2)]);
    await waitFor(() => a.rec.events.length === 1);
    expect(a.rec.events[0]).toMatchObject({ seq: 1, data: { n: 2 } });
  });

  it('closes promptly while Redis is down', async () => {
    const redis = await startRedis();
    const a = await open(redis.url);
    await redis.stop();
    await waitFor(() => !a.log.status().connected);
    await a.log.close(); // within the test timeout; the reader and the reconnect loop are ended
    await expect(a.log.append([alert(1)])).rejects.toThrow(/closed/);
  });
});
