/** The SDK resuming (after a reconnect) while the server's Redis log cannot read its history. */
import { afterEach, describe, expect, it } from 'vitest';
import { SigmaxServer } from '../../src/server/index.js';
import { SigmaxWebSocketClient, type ClientOptions, type GapInfo } from '../../src/client/index.js';
import { PrivateRedis, redisAvailability, waitFor } from './helpers.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const redisUp = await redisAvailability();
const trade = (id: string) => ({ proposal_id: `prop_${id}`, symbol: 'BTC/USDT', action: 'buy' as const, size: 1, filled_price: 1, order_id: `o_${id}`, status: 'filled' as const });

describe.skipIf(!redisUp)('the SDK resuming while the Redis log cannot answer', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  /**
   * A server on a private Redis (history of `historySize`), a client subscribed to executions through a proxy (so that
   * its connection can be cut), and event 1 received.
   */
  async function setup(historySize: number, options: ClientOptions) {
    const redis = new PrivateRedis();
    cleanup.push(() => redis.stop());
    await redis.start();
    const server = new SigmaxServer({ port: 0, host: '127.0.0.1', redisUrl: redis.url, redisKeyPrefix: 'sdk', historySize, historyTtl: 60_000 });
    cleanup.push(() => server.close());
    await server.listen();
    const proxy = new TcpProxy(server.port);
    await proxy.start();
    cleanup.push(() => proxy.close());
    const client = new SigmaxWebSocketClient({ pingInterval: 0, maxReconnectDelay: 300, ...options });
    cleanup.push(() => client.disconnect());
    const seen: number[] = [];
    const gaps: GapInfo[] = [];
    const closes: number[] = [];
    const errors: unknown[] = [];
    client.on('trade_executed', (e) => void seen.push(e.seq!));
    client.on('gap', (g) => void gaps.push(g));
    client.on('close', (c) => void closes.push(c.code));
    client.on('error', (e) => void errors.push(e));
    await client.connect(`ws://127.0.0.1:${proxy.port}/api/ws`);
    await client.subscribe({ topics: ['executions'] });
    await server.publish('trade_executed', trade('1'));
    await waitFor(() => seen.length === 1);
    return { redis, server, proxy, client, seen, gaps, closes, errors };
  }

  it('waits for the history instead of taking a gap, keeps its subscriptions, and resumes in full', async () => {
    const { redis, server, proxy, client, seen, gaps, closes } = await setup(100, { minReconnectDelay: 50 });
    // Redis hangs for 2.5 s, and meanwhile the client's connection drops (a load balancer restarting, say): it
    // resumes, and the server's first history read gets no answer within its command timeout (2 s).
    redis.pause();
    try {
      proxy.cutAll();
      await new Promise((r) => setTimeout(r, 2500));
    } finally {
      redis.resume();
    }
    await waitFor(() => server.stats().redis_enabled, 10_000, 'Redis answering again');
    await waitFor(() => client.isConnected(), 10_000, 'the client to resume');
    await server.publish('trade_executed', trade('2'));
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual([1, 2]);
    expect(gaps).toEqual([]);
    expect(closes).toEqual([1006]); // the cut only
    expect(await client.getSubscriptions()).toContain('executions');
  });

  it('a resume not answered within its command timeout is made again on a new connection, whose answer (a gap here) is heard', async () => {
    // History of 2 events: a client away for 4 cannot be recovered.
    const { redis, server, proxy, seen, gaps, closes, errors } = await setup(2, { minReconnectDelay: 100, commandTimeout: 1000 });
    // The connection drops; 4 events are published meanwhile; then Redis hangs 2.5 s, so the resume is answered after
    // the SDK's command timeout (1 s) — and it answers that the client cannot be recovered.
    proxy.cutAll();
    for (const n of [2, 3, 4, 5]) await server.publish('trade_executed', trade(String(n)));
    redis.pause();
    try {
      await waitFor(() => errors.length > 0, 3000, 'the resume to time out');
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      redis.resume();
    }
    await waitFor(() => server.stats().redis_enabled, 10_000, 'Redis answering again');
    await server.publish('trade_executed', trade('6'));
    await waitFor(() => seen.includes(6), 5000, 'event 6');
    // The timed-out resume ended its connection (a second close after the cut), and was made again: the server's
    // answer that events 2..5 could not all be recovered reached the application as a gap.
    expect(closes.length).toBeGreaterThanOrEqual(2);
    expect(seen.slice(0, 1)).toEqual([1]);
    expect(gaps).toEqual([expect.objectContaining({ seq: 1, reason: 'history_exceeded' })]);
  });

  it('a resume not answered twice is a gap, and the client opens rather than retry for the whole outage', async () => {
    // The server waits up to 3 s for a history it cannot read: longer than this client waits for an answer.
    const { redis, proxy, client, gaps, closes } = await setup(100, { minReconnectDelay: 100, commandTimeout: 1000 });
    await redis.stop(); // gone for the rest of the test
    proxy.cutAll();
    await waitFor(() => gaps.length === 1, 8000, 'the gap');
    await waitFor(() => client.isConnected(), 3000, 'the client to open');
    expect(gaps[0]).toMatchObject({ seq: 1 });
    expect(closes).toHaveLength(2); // the cut, then the first resume not answered
    expect(client.position).toMatchObject({ seq: 1 }); // kept: a later resume still starts from it
  });
});
