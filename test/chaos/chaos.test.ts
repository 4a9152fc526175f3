/**
 * Chaos (issue 4): two server instances on one real Redis behind a TCP proxy that cuts
 * connections at random; one instance is stopped and restarted mid-run; thousands of
 * events are published from both. Every client must end with every event exactly once,
 * in `seq` order, and no gap. Bounded in count and time; the randomness is seeded and
 * the seed is printed on failure.
 */
import { describe, expect, it } from 'vitest';
import { SigmaxServer, type SigmaxServerOptions } from '../../src/server/index.js';
import { SigmaxWebSocketClient, type GapInfo, type OpenInfo } from '../../src/index.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { REDIS_URL, deleteKeys, redisAvailability, testClient, uniquePrefix } from '../redis/helpers.js';

const redisUp = await redisAvailability();

/** Mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EVENTS = 5000;
const CLIENTS = 3;
const MIN_CUTS = 20;
const BATCH = 25;

interface Received {
  seqs: number[];
  orders: string[];
  epochs: Set<string>;
  gaps: GapInfo[];
  closes: number;
}

describe.skipIf(!redisUp)('chaos: two instances on Redis, random cuts, an instance restart', () => {
  it(`delivers ${EVENTS} events published on both instances to every client exactly once, in seq order`, async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const prefix = uniquePrefix();
    const opts: SigmaxServerOptions = {
      port: 0,
      host: '127.0.0.1',
      redisUrl: REDIS_URL,
      redisKeyPrefix: prefix,
      historySize: EVENTS * 2,
      historyTtl: 600_000,
      maxBufferedBytes: 16 * 1024 * 1024,
    };
    const a0 = new SigmaxServer(opts);
    const b = new SigmaxServer(opts);
    await Promise.all([a0.listen(), b.listen()]);
    const aPort = a0.port;
    const instances: { a: SigmaxServer | undefined; b: SigmaxServer } = { a: a0, b };

    // New connections go to a random live instance.
    const proxy = new TcpProxy(() => (instances.a && random() < 0.5 ? aPort : b.port));
    await proxy.start();
    const url = `ws://127.0.0.1:${proxy.port}/api/ws`;

    const clients: SigmaxWebSocketClient[] = [];
    const received: Received[] = [];
    let cuts = 0;
    let chaos: ReturnType<typeof setInterval> | undefined;
    const redis = await testClient();
    try {
      for (let i = 0; i < CLIENTS; i++) {
        const r: Received = { seqs: [], orders: [], epochs: new Set(), gaps: [], closes: 0 };
        const c = new SigmaxWebSocketClient({
          url,
          minReconnectDelay: 20,
          maxReconnectDelay: 250,
          pingInterval: 1000,
          pingTimeout: 2000,
          listeners: {
            '*': (e) => {
              if (typeof e.seq === 'number') r.seqs.push(e.seq);
              if (e.type === 'trade_executed') r.orders.push(e.data.order_id);
            },
            open: (info) => void (info.epoch && r.epochs.add(info.epoch)),
            reconnected: (info) => void (info.epoch && r.epochs.add(info.epoch)),
            gap: (g) => void r.gaps.push(g),
            close: () => void r.closes++,
          },
        });
        clients.push(c);
        received.push(r);
        await c.connect();
        await c.subscribe({ topics: ['executions'], symbols: ['BTC/USDT'] });
      }

      // Cut a random proxied connection every 40–120 ms while publishing.
      const tick = () => {
        if (proxy.cutOne(random)) cuts++;
        chaos = setTimeout(tick, 40 + random() * 80);
      };
      chaos = setTimeout(tick, 50);

      const deadline = Date.now() + 60_000;
      for (let i = 0; i < EVENTS; i += BATCH) {
        if (Date.now() > deadline) throw new Error(`publishing did not finish in time (seed ${seed})`);
        if (i === Math.floor(EVENTS * 0.4 / BATCH) * BATCH && instances.a) {
          const a = instances.a;
          instances.a = undefined;
          await a.close(); // its clients get 1001 and reconnect to b through the proxy
        }
        if (i === Math.floor(EVENTS * 0.7 / BATCH) * BATCH && !instances.a) {
          const a = new SigmaxServer({ ...opts, port: aPort });
          await a.listen();
          instances.a = a;
        }
        const batch: Promise<unknown>[] = [];
        for (let j = i; j < Math.min(EVENTS, i + BATCH); j++) {
          const from = j % 2 === 0 && instances.a ? instances.a : b;
          batch.push(from.publish('trade_executed', {
            proposal_id: `p${j}`, symbol: 'BTC/USDT', action: 'buy', size: 1, filled_price: 100, order_id: `o${j}`, status: 'filled',
          }));
        }
        await Promise.all(batch);
        await new Promise((r) => setTimeout(r, 5));
      }
      // Keep cutting until the minimum is reached, then let everyone catch up.
      await waitFor(() => cuts >= MIN_CUTS, `${MIN_CUTS} cuts (seed ${seed})`, 20_000);
      clearTimeout(chaos);
      chaos = undefined;
      await waitFor(
        () => received.every((r) => r.orders.length >= EVENTS),
        `every client to receive ${EVENTS} events (got ${received.map((r) => r.orders.length).join(', ')}; seed ${seed})`,
        30_000,
      );

      const expected = Array.from({ length: EVENTS }, (_, j) => `o${j}`).sort();
      received.forEach((r, k) => {
        const label = `client ${k} (seed ${seed})`;
        expect(r.gaps, label).toEqual([]);
        expect(r.epochs.size, label).toBe(1);
        // In seq order, each seq once, with no hole.
        for (let i = 1; i < r.seqs.length; i++) expect(r.seqs[i], `${label} at ${i}`).toBe((r.seqs[i - 1] as number) + 1);
        // Every published event exactly once.
        expect(r.orders.length, label).toBe(EVENTS);
        expect([...r.orders].sort(), label).toEqual(expected);
      });
      expect(cuts).toBeGreaterThanOrEqual(MIN_CUTS);
      // Every cut was seen by a client as a lost connection, and every client came back.
      expect(received.reduce((n, r) => n + r.closes, 0)).toBeGreaterThanOrEqual(cuts);
      await waitFor(() => clients.every((c) => c.isConnected()), 'every client to be connected again', 10_000);
    } finally {
      if (chaos) clearTimeout(chaos);
      await Promise.all(clients.map((c) => c.disconnect()));
      await proxy.close();
      await Promise.all([instances.a?.close(), b.close()]);
      await deleteKeys(redis, prefix);
      await redis.quit();
    }
  }, 120_000);

  it('resumes on another instance than the one first connected to: recovered, every event once, in order', async () => {
    const prefix = uniquePrefix();
    const opts: SigmaxServerOptions = { port: 0, host: '127.0.0.1', redisUrl: REDIS_URL, redisKeyPrefix: prefix };
    const a = new SigmaxServer(opts);
    const b = new SigmaxServer(opts);
    await Promise.all([a.listen(), b.listen()]);
    const proxy = new TcpProxy(a.port);
    await proxy.start();
    const got: string[] = [];
    const gaps: GapInfo[] = [];
    const reopened: OpenInfo[] = [];
    const client = new SigmaxWebSocketClient({
      url: `ws://127.0.0.1:${proxy.port}/api/ws`,
      minReconnectDelay: 20,
      maxReconnectDelay: 100,
      connectTimeout: 300,
      listeners: {
        trade_executed: (e) => void got.push(e.data.order_id),
        gap: (g) => void gaps.push(g),
        reconnected: (info) => void reopened.push(info),
      },
    });
    const redis = await testClient();
    const trade = (n: number) => ({ proposal_id: `p${n}`, symbol: 'BTC/USDT', action: 'buy', size: 1, filled_price: 100, order_id: `o${n}`, status: 'filled' });
    try {
      await client.connect();
      await client.subscribe({ topics: ['executions'] });
      for (let n = 1; n <= 3; n++) await a.publish('trade_executed', trade(n));
      await waitFor(() => got.length === 3, 'the first three events, live from A');
      expect(a.stats().active_connections).toBe(1);

      // Cut; until the client is away, new connections are held but not forwarded, then go to B.
      proxy.blackhole(true);
      proxy.setTarget(b.port);
      proxy.cutAll();
      await waitFor(() => client.state === 'reconnecting' || client.state === 'connecting', 'the loss to be noticed');
      for (let n = 4; n <= 9; n++) await (n % 2 ? a : b).publish('trade_executed', trade(n));
      proxy.blackhole(false);

      await waitFor(() => got.length >= 9 && reopened.length >= 1, 'the six missed events, resumed on B', 10_000);
      expect(got).toEqual(['o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'o8', 'o9']);
      expect(gaps).toEqual([]);
      expect(reopened.at(-1)?.recovered).toBe(true);
      await waitFor(() => b.stats().active_connections === 1 && a.stats().active_connections === 0, 'the client to be on B');
    } finally {
      await client.disconnect();
      await proxy.close();
      await Promise.all([a.close(), b.close()]);
      await deleteKeys(redis, prefix);
      await redis.quit();
    }
  }, 30_000);
});
