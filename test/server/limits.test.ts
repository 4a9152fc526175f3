import { describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { SigmaxWebSocketClient, ServerError } from '../../src/index.js';
import { connect, open, startServer, waitUntil } from './helpers.js';

describe('connection limits and admission', () => {
  it('the connection over maxConnections gets MAX_CONNECTIONS_EXCEEDED and close 1013 (never HTTP 500)', async () => {
    const server = await startServer({ maxConnections: 2 });
    const a = await connect(server);
    await connect(server);
    const extra = await open(server);
    const e = await extra.next('error');
    expect(e.data).toMatchObject({ code: 'MAX_CONNECTIONS_EXCEEDED' });
    expect((await extra.closed).code).toBe(1013);
    expect(extra.all('connected')).toHaveLength(0);
    // The refused connection counts as a connection, and as a disconnection once closed.
    await waitUntil(() => server.stats().total_disconnections_lifetime === 1, 3000, 'the refused connection to be counted as a disconnection');
    expect(server.stats()).toMatchObject({ active_connections: 2, total_connections_lifetime: 3, rejected_connections_lifetime: 1, total_messages_sent: 5 });
    await a.close();
    await waitUntil(() => server.stats().active_connections === 1);
    expect(server.stats()).toMatchObject({ total_connections_lifetime: 3, total_disconnections_lifetime: 2 });
    await connect(server);
  });

  it('refuses an upgrade whose Origin is not allowed with ORIGIN_NOT_ALLOWED and close 1008', async () => {
    const server = await startServer({ corsOrigins: ['http://good.example'] });
    const bad = await open(server, { origin: 'http://evil.example' });
    expect((await bad.next('error')).data.code).toBe('ORIGIN_NOT_ALLOWED');
    expect((await bad.closed).code).toBe(1008);
    await connect(server, { origin: 'http://good.example' });
    await connect(server); // no Origin header: a non-browser client
    expect(server.stats().active_connections).toBe(2);
  });

  it('requires a valid api_key when apiKeys are set (AUTHENTICATION_FAILED, 1008)', async () => {
    const server = await startServer({ apiKeys: ['key-one', 'key-two'] });
    for (const query of ['', '?api_key=wrong', '?api_key=key-on', '?api_key=']) {
      const c = await open(server, {}, query);
      expect((await c.next('error')).data.code, query).toBe('AUTHENTICATION_FAILED');
      expect((await c.closed).code).toBe(1008);
    }
    const ok = await connect(server, {}, '?api_key=key-two');
    expect(ok.frames[0]!.type).toBe('connected');
  });
});

describe('per-connection limits', () => {
  it('a message over maxMessageSize gets MESSAGE_TOO_LARGE and close 1009', async () => {
    const server = await startServer({ maxMessageSize: 1024 });
    const c = await connect(server);
    c.send({ type: 'ping', pad: 'x'.repeat(1500) });
    expect((await c.next('error')).data.code).toBe('MESSAGE_TOO_LARGE');
    expect((await c.closed).code).toBe(1009);
  });

  it('MESSAGE_TOO_LARGE echoes the request_id of the refused message, so the caller learns why', async () => {
    const server = await startServer({ maxMessageSize: 1024 });
    const c = await connect(server);
    c.send({ type: 'command', data: { command: 'get_status', pad: 'x'.repeat(1500) }, request_id: 'big-1' });
    const e = await c.next('error');
    expect(e.data.code).toBe('MESSAGE_TOO_LARGE');
    expect(e.request_id).toBe('big-1');
    expect((await c.closed).code).toBe(1009);
  });

  it('SDK: a command too large for the server rejects with ServerError MESSAGE_TOO_LARGE, then the client reconnects', async () => {
    const server = await startServer({ maxMessageSize: 1024 });
    const client = new SigmaxWebSocketClient({ url: server.url, commandTimeout: 10_000, pingInterval: 0, minReconnectDelay: 50 });
    client.on('error', () => {});
    const states: string[] = [];
    client.on('state', (s) => void states.push(s.to));
    try {
      await client.connect();
      const t0 = performance.now();
      const err = await client.command('get_status', { pad: 'x'.repeat(1500) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServerError);
      expect(err).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
      expect(performance.now() - t0).toBeLessThan(2000);
      await waitUntil(() => states.includes('reconnecting') && client.state === 'open', 5000, 'the client to reconnect');
      expect(await client.command('get_status')).toMatchObject({ running: true });
    } finally {
      client.disconnect();
    }
  });

  it('a message far over the limit is cut by the transport with 1009', async () => {
    const server = await startServer({ maxMessageSize: 1024 });
    const c = await connect(server);
    c.send({ type: 'ping', pad: 'x'.repeat(10_000) });
    expect((await c.closed).code).toBe(1009);
    await waitUntil(() => server.stats().active_connections === 0);
  });

  it('a client over the rate limit gets RATE_LIMITED for each refused message and stays connected', async () => {
    const server = await startServer({ rateLimit: 1, rateLimitBurst: 5 });
    const c = await connect(server);
    for (let i = 0; i < 20; i++) c.send({ type: 'ping', request_id: `p${i}` });
    const e = await c.next('error');
    expect(e.data.code).toBe('RATE_LIMITED');
    await c.waitFor((f) => f.request_id === 'p19');
    expect(c.all('pong')).toHaveLength(5);
    expect(c.all('error').map((f) => f.request_id)).toEqual(Array.from({ length: 15 }, (_, i) => `p${i + 5}`));
    // The bucket refills (1 token/s): a later ping is answered.
    await new Promise((r) => setTimeout(r, 1100));
    c.send({ type: 'ping', request_id: 'later' });
    expect((await c.waitFor((f) => f.request_id === 'later')).type).toBe('pong');
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('caps subscriptions per connection with TOO_MANY_SUBSCRIPTIONS, changing nothing', async () => {
    const server = await startServer({ maxSubscriptions: 3 });
    const c = await connect(server);
    await c.request({ type: 'subscribe', data: { topics: ['market', 'alerts'], symbols: ['BTC/USDT'] } }, 'subscribed');
    await c.request({ type: 'subscribe', data: { topics: ['MARKET'] } }, 'subscribed'); // already held: no new subscription
    const e = await c.request({ type: 'subscribe', data: { topics: ['health'] } }, 'error');
    expect(e.data.code).toBe('TOO_MANY_SUBSCRIPTIONS');
    const subs = await c.request({ type: 'get_subscriptions' }, 'system_status');
    expect(subs.data.count).toBe(3);
    expect(server.stats().subscriptions_count).toBe(3);
  });
});

describe('slow consumers', () => {
  function pause(c: { ws: unknown }): Socket {
    const socket = (c.ws as { _socket: Socket })._socket;
    socket.pause();
    return socket;
  }

  it('a consumer that stops reading is closed with SLOW_CONSUMER + 1013 while a fast one keeps receiving', async () => {
    const server = await startServer({ maxBufferedBytes: 64 * 1024 });
    const fast = await connect(server);
    const slow = await connect(server);
    for (const c of [fast, slow]) await c.request({ type: 'subscribe', data: { topics: ['alerts'] } }, 'subscribed');
    const socket = pause(slow);
    const big = 'x'.repeat(16 * 1024);
    let published = 0;
    // Bounded: at most 4000 × 16 KB; the cut comes after the kernel buffers fill (a few MB).
    while (server.stats().slow_consumers_lifetime === 0 && published < 4000) {
      await server.publish('alert', { message: big, level: 'info', n: published++ } as never);
      if (published % 50 === 0) await fast.waitFor((f) => f.data?.n === published - 1, 5000);
    }
    expect(server.stats().slow_consumers_lifetime).toBe(1);
    await server.publish('alert', { message: 'after', level: 'info' });
    await fast.waitFor((f) => f.data?.message === 'after', 5000);
    expect(fast.events().map((f) => f.seq)).toEqual(Array.from({ length: published + 1 }, (_, i) => i + 1));
    socket.resume();
    expect((await slow.closed).code).toBe(1013);
    expect(slow.frames.at(-1)).toMatchObject({ type: 'error', data: { code: 'SLOW_CONSUMER' } });
    await waitUntil(() => server.stats().active_connections === 1);
  });

  it('a consumer that cannot even take the close is terminated', async () => {
    const server = await startServer({ maxBufferedBytes: 64 * 1024 });
    const slow = await connect(server);
    await slow.request({ type: 'subscribe', data: { topics: ['alerts'] } }, 'subscribed');
    pause(slow);
    const big = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 4000 && server.stats().slow_consumers_lifetime === 0; i++) await server.publish('alert', { message: big });
    expect(server.stats().slow_consumers_lifetime).toBe(1);
    await waitUntil(() => server.stats().active_connections === 0, 5000, 'the slow consumer to be terminated');
    expect(server.stats().total_disconnections_lifetime).toBe(1);
  });
});
