import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SigmaxServer, type SigmaxServerOptions } from '../../src/server/index.js';
import { PrivateRedis, REDIS_URL, certainRefusal, deleteKeys, redisAvailability, testClient, uniquePrefix, waitFor, type TestClient } from './helpers.js';
import { WsRecorder } from './ws-client.js';

const redisUp = await redisAvailability();

const trade = (id: string) => ({
  proposal_id: `prop_${id}`,
  symbol: 'BTC/USDT',
  action: 'buy',
  size: 0.001,
  filled_price: 95000,
  order_id: `order_${id}`,
  status: 'filled',
});

/** Publishes a marker on `server` and waits until every client has it: whatever came before has arrived. */
async function settle(server: SigmaxServer, clients: WsRecorder[], tag: string): Promise<void> {
  await server.publish('alert', { message: `marker ${tag}`, level: 'info' });
  await Promise.all(clients.map((c) => c.waitFor((f) => f.type === 'alert' && f.data.message === `marker ${tag}`)));
}

describe.skipIf(!redisUp)('two SigmaxServer instances on one Redis', () => {
  const servers: SigmaxServer[] = [];
  const clients: WsRecorder[] = [];
  const privates: PrivateRedis[] = [];
  let redis: TestClient;
  let prefix = '';

  beforeAll(async () => {
    redis = await testClient();
  });
  afterAll(() => redis?.destroy());
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await Promise.all(privates.splice(0).map((p) => p.stop()));
    if (prefix) await deleteKeys(redis, prefix);
  });

  async function serve(options: SigmaxServerOptions): Promise<SigmaxServer> {
    const s = new SigmaxServer({ port: 0, host: '127.0.0.1', historySize: 100, historyTtl: 60_000, ...options });
    servers.push(s);
    await s.listen();
    return s;
  }
  async function client(server: SigmaxServer, since?: { epoch: string; seq: number }, timeoutMs?: number): Promise<WsRecorder> {
    const c = await WsRecorder.subscribed(server.url, since, timeoutMs);
    clients.push(c);
    return c;
  }

  it('delivers an event published on A exactly once to a client of A and to a client of B, with one seq', async () => {
    prefix = uniquePrefix();
    const a = await serve({ redisUrl: REDIS_URL, redisKeyPrefix: prefix });
    const b = await serve({ redisUrl: REDIS_URL, redisKeyPrefix: prefix });
    const ca = await client(a);
    const cb = await client(b);
    expect(ca.epoch).toBe(cb.epoch);
    await a.publish('trade_executed', trade('1'));
    await settle(b, [ca, cb], '1');
    for (const c of [ca, cb]) {
      const trades = c.events('trade_executed');
      expect(trades).toHaveLength(1);
      expect(trades[0]).toMatchObject({ type: 'trade_executed', topic: 'executions', seq: 1, data: trade('1') });
    }
    expect(ca.events().map((f) => f.seq)).toEqual([1, 2]);
    expect(cb.events().map((f) => f.seq)).toEqual([1, 2]);
    expect(a.stats()).toMatchObject({ redis_enabled: true });
  });

  it('delivers a message in the original sigmax:broadcast format to the clients of both, once', async () => {
    prefix = uniquePrefix();
    const a = await serve({ redisUrl: REDIS_URL, redisKeyPrefix: prefix });
    const b = await serve({ redisUrl: REDIS_URL, redisKeyPrefix: prefix });
    const ca = await client(a);
    const cb = await client(b);
    const message = { type: 'trade_executed', data: trade('py'), timestamp: '2026-11-25T17:17:34.969880', connection_id: null };
    await redis.publish(`${prefix}:broadcast`, JSON.stringify({ topic: 'executions', message }));
    await Promise.all([ca, cb].map((c) => c.waitFor((f) => f.type === 'trade_executed')));
    await settle(a, [ca, cb], 'legacy');
    for (const c of [ca, cb]) {
      expect(c.events('trade_executed')).toEqual([
        { type: 'trade_executed', data: trade('py'), timestamp: '2026-11-25T17:17:34.969880', topic: 'executions', seq: 1 },
      ]);
    }
  });

  it('refuses to publish while Redis is down (typed error, 503 + Retry-After), says so, and recovers when it returns', async () => {
    const priv = new PrivateRedis();
    privates.push(priv);
    await priv.start();
    prefix = '';
    const a = await serve({ redisUrl: priv.url, redisKeyPrefix: 'it', publishToken: 'tok' });
    const b = await serve({ redisUrl: priv.url, redisKeyPrefix: 'it' });
    const ca = await client(a);
    const cb = await client(b);
    await a.publish('trade_executed', trade('before'));
    await Promise.all([ca, cb].map((c) => c.waitFor((f) => f.data?.proposal_id === 'prop_before')));

    await priv.stop();
    await waitFor(() => !a.stats().redis_enabled && !b.stats().redis_enabled, 5000, 'stats to show Redis down');
    const health = await fetch(`http://127.0.0.1:${a.port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'degraded', redis: { enabled: true, connected: false } });
    // publishing is refused (nothing appended, nothing delivered): a typed error, and 503 over HTTP
    const err = await certainRefusal(() => a.publish('trade_executed', trade('during'), { id: 'during' }));
    expect(err).toMatchObject({ name: 'EventLogUnavailableError', code: 'EVENT_LOG_UNAVAILABLE', outcome: 'not_appended' });
    const post = () =>
      fetch(`http://127.0.0.1:${a.port}/api/events`, {
        method: 'POST',
        headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
        body: JSON.stringify([{ type: 'trade_executed', data: trade('during'), id: 'during' }]),
      });
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ code: 'EVENT_LOG_UNAVAILABLE', outcome: 'not_appended', retry_after_ms: 1000 });
    expect(ca.closed).toBeUndefined();

    await priv.start(); // same port, empty: a new shared epoch
    await waitFor(() => a.stats().redis_enabled && b.stats().redis_enabled, 10_000, 'stats to show Redis back');
    // positions on the old epochs are void: clients are asked to reconnect, and resuming says so
    expect(await ca.waitClosed()).toBe(1001);
    expect(await cb.waitClosed()).toBe(1001);
    const before = ca.events()[0]!;
    const resumed = await client(b, { epoch: ca.epoch, seq: before.seq! });
    const subscribed = resumed.frames.find((f) => f.type === 'subscribed')!;
    expect(subscribed.data).toMatchObject({ recovered: false });
    const ca2 = await client(a);
    expect(ca2.epoch).toBe(resumed.epoch);
    // the publisher retries with the same id: accepted once, however many times it is sent
    const accepted = await post();
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({ accepted: 1, duplicates: 0, seqs: [1] });
    expect(await (await post()).json()).toEqual({ accepted: 1, duplicates: 1, seqs: [1] });
    expect(await a.publish('trade_executed', trade('during'), { id: 'during' })).toEqual({ seq: 1, duplicate: true });
    await a.publish('trade_executed', trade('after'));
    await settle(b, [ca2, resumed], 'after');
    for (const c of [ca2, resumed]) {
      expect(c.events('trade_executed').map((f) => f.data.proposal_id)).toEqual(['prop_during', 'prop_after']);
    }
    expect(ca2.events('trade_executed')[0]!.seq).toBe(resumed.events('trade_executed')[0]!.seq);
    const healthAfter = await (await fetch(`http://127.0.0.1:${a.port}/health`)).json();
    expect(healthAfter).toMatchObject({ status: 'ok', redis: { connected: true } });
  });

  it('a resume waits a little for a history the log cannot read now: no gap after a short hang, a gap when Redis stays away', async () => {
    const priv = new PrivateRedis();
    privates.push(priv);
    await priv.start();
    prefix = '';
    const a = await serve({ redisUrl: priv.url, redisKeyPrefix: 'it' });
    const c = await client(a);
    await a.publish('trade_executed', trade('1'));
    const first = await c.waitFor((f) => f.data?.proposal_id === 'prop_1');
    const since = { epoch: c.epoch, seq: first.seq! };
    c.close();
    // Redis hangs for 2.5 s: the first history read gets no answer within the command timeout (2 s), a later one does.
    priv.pause();
    const resuming = client(a, since, 10_000);
    await new Promise((r) => setTimeout(r, 2500));
    priv.resume();
    const again = await resuming;
    expect(again.frames.find((f) => f.type === 'subscribed')!.data).toMatchObject({ recovered: true });
    await a.publish('trade_executed', trade('2'));
    await again.waitFor((f) => f.data?.proposal_id === 'prop_2');
    expect(again.events().map((f) => f.seq)).toEqual([since.seq + 1]);
    // Redis gone for good: after the wait, the resume is answered, with a gap.
    await priv.stop();
    const t0 = Date.now();
    const gone = await client(a, { epoch: since.epoch, seq: since.seq + 1 }, 10_000);
    expect(gone.frames.find((f) => f.type === 'subscribed')!.data).toMatchObject({ recovered: false });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2500);
  });

  it('POST /api/events is all or none: a batch Redis refuses appends nothing; its retry appends all three, once', async () => {
    const priv = new PrivateRedis();
    privates.push(priv);
    await priv.start();
    prefix = '';
    const a = await serve({ redisUrl: priv.url, redisKeyPrefix: 'atomic', publishToken: 'tok' });
    const c = await client(a);
    const body = JSON.stringify([1, 2, 3].map((i) => ({ type: 'trade_executed', data: trade(`b${i}`), id: `batch-${i}` })));
    const post = () =>
      fetch(`http://127.0.0.1:${a.port}/api/events`, { method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' }, body });
    const admin = await testClient(priv.url);
    try {
      await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '1mb']);
      const refused = await post();
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ code: 'EVENT_LOG_UNAVAILABLE', outcome: 'not_appended' });
      await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '0']);
    } finally {
      admin.destroy();
    }
    expect(await (await post()).json()).toEqual({ accepted: 3, duplicates: 0, seqs: [1, 2, 3] });
    expect(await (await post()).json()).toEqual({ accepted: 3, duplicates: 3, seqs: [1, 2, 3] });
    await settle(a, [c], 'atomic');
    expect(c.events('trade_executed').map((f) => [f.seq, f.data.proposal_id])).toEqual([[1, 'prop_b1'], [2, 'prop_b2'], [3, 'prop_b3']]);
  });
});
