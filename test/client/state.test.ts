import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthenticationError, SigmaxWebSocketClient, type ClientOptions, type StateChange } from '../../src/index.js';
import { MockSigmax, MockWS, tick, connectTo } from '../helpers/mock-sigmax.js';

let server: MockSigmax;
let client: SigmaxWebSocketClient;

function make(opts: ClientOptions = {}): { client: SigmaxWebSocketClient; states: StateChange[] } {
  const states: StateChange[] = [];
  client = new SigmaxWebSocketClient({ WebSocket: MockWS, minReconnectDelay: 100, maxReconnectDelay: 1000, random: () => 0.5, listeners: { state: (s) => states.push(s) }, ...opts });
  return { client, states };
}

beforeEach(() => {
  vi.useFakeTimers();
  server = new MockSigmax();
});
afterEach(async () => {
  await client?.disconnect();
  server.stop();
  vi.useRealTimers();
});

describe('client state machine', () => {
  it('goes idle → connecting → open and resolves connect() with the connection id', async () => {
    const { client, states } = make();
    expect(client.state).toBe('idle');
    const p = client.connect(server.url);
    await tick();
    const info = await p;
    expect(info.connectionId).toBe('c0');
    expect(client.connectionId).toBe('c0');
    expect(client.isConnected()).toBe(true);
    expect(states.map((s) => `${s.from}>${s.to}`)).toEqual(['idle>connecting', 'connecting>open']);
  });

  it('disconnect() goes to closed, is idempotent, and rejects a pending connect()', async () => {
    const { client, states } = make();
    const p = client.connect(server.url);
    const settled = p.then(() => 'resolved', (e: Error) => e.name);
    await client.disconnect();
    await client.disconnect();
    expect(await settled).toBe('ClosedError');
    expect(client.state).toBe('closed');
    expect(states.at(-1)).toMatchObject({ from: 'connecting', to: 'closed', reason: 'disconnect()' });
  });

  it('reconnects with backoff after close 1001 and emits close, reconnecting, reconnected', async () => {
    const { client, states } = make();
    const seen: string[] = [];
    client.on('close', (c) => seen.push(`close ${c.code} ${c.willRetry}`));
    client.on('reconnecting', (r) => seen.push(`reconnecting ${r.attempt} ${r.delay}`));
    client.on('reconnected', (i) => seen.push(`reconnected ${i.connectionId}`));
    await connectTo(client, server);
    server.kick(1001, 'going away');
    await tick(10);
    expect(client.state).toBe('reconnecting');
    // attempt 0: uniform in [100, 200] → 150 with random 0.5
    expect(seen).toEqual(['close 1001 true', 'reconnecting 1 150']);
    await tick(140);
    expect(client.state).toBe('reconnecting');
    await tick(40);
    expect(client.state).toBe('open');
    expect(seen.at(-1)).toBe('reconnected c1');
    expect(states.map((s) => s.to)).toEqual(['connecting', 'open', 'reconnecting', 'connecting', 'open']);
    expect(client.stats().reconnects).toBe(1);
  });

  it('retries after 1013 (try again later) with MAX_CONNECTIONS_EXCEEDED, without an error event', async () => {
    const { client } = make();
    const errors: Error[] = [];
    const closes: string[] = [];
    client.on('error', (e) => errors.push(e));
    client.on('close', (c) => closes.push(`${c.code} ${c.willRetry}`));
    await connectTo(client, server);
    server.opts.refuse = { code: 'MAX_CONNECTIONS_EXCEEDED', close: 1013 };
    server.kick(1001);
    await tick(400); // first retry refused
    expect(client.state).toBe('reconnecting');
    expect(closes).toEqual(['1001 true', '1013 true']);
    server.opts.refuse = undefined;
    await tick(1000);
    expect(client.state).toBe('open');
    expect(server.sockets).toHaveLength(3);
    expect(errors).toEqual([]);
  });

  it('stops on 1008 and surfaces a typed AuthenticationError through the error event only', async () => {
    const { client } = make();
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    await connectTo(client, server);
    server.reply(server.last, 'error', { error: 'Authentication failed', code: 'AUTHENTICATION_FAILED' });
    server.kick(1008, 'policy');
    await tick(10);
    expect(client.state).toBe('closed');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(AuthenticationError);
    expect(errors[0]).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
    await tick(120_000);
    expect(server.sockets).toHaveLength(1);
  });

  it('rejects connect() with AuthenticationError when refused with 1008 before open, and emits no error event', async () => {
    server.opts.silent = true;
    server.server.on('connection', (s) => {
      server.reply(s, 'error', { error: 'bad key', code: 'AUTHENTICATION_FAILED' });
      s.close({ code: 1008, reason: 'auth', wasClean: true });
    });
    const { client } = make();
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    const p = client.connect(server.url, 'wrong').catch((e: unknown) => e);
    await tick();
    const err = await p;
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ code: 'AUTHENTICATION_FAILED', message: 'bad key' });
    expect(errors).toEqual([]);
    expect(client.state).toBe('closed');
  });

  it('with retryFirstConnect: false, does not retry a first connect() that fails with a retryable cause; a new connect() restores the subscriptions', async () => {
    const { client, states } = make({ retryFirstConnect: false });
    await client.subscribe({ topics: ['executions'] });
    server.opts.refuse = { code: 'MAX_CONNECTIONS_EXCEEDED', close: 1013 };
    const p = client.connect(server.url).catch((e: unknown) => e);
    await tick();
    expect(await p).toMatchObject({ name: 'ServerError', code: 'MAX_CONNECTIONS_EXCEEDED' });
    expect(client.state).toBe('closed');
    await tick(120_000);
    expect(server.sockets).toHaveLength(1); // no retry behind the caller's back
    expect(vi.getTimerCount()).toBe(0);
    server.opts.refuse = undefined;
    const again = client.connect(server.url);
    await tick();
    await again;
    expect(server.sent('subscribe').at(-1)?.data).toMatchObject({ topics: ['executions'] });
    expect(states.map((s) => s.to)).toEqual(['connecting', 'closed', 'connecting', 'open']);
  });

  it('rejects connect() with CONNECT_TIMEOUT when no connected event arrives', async () => {
    server.opts.silent = true;
    const { client } = make({ connectTimeout: 500, retryFirstConnect: false });
    const p = client.connect(server.url).catch((e: unknown) => e);
    await tick(499);
    expect(client.state).toBe('connecting');
    await tick(2);
    expect(await p).toMatchObject({ name: 'TimeoutError', code: 'CONNECT_TIMEOUT' });
    expect(client.state).toBe('closed');
  });

  it('gives up with RECONNECT_FAILED after maxReconnectAttempts', async () => {
    const { client } = make({ maxReconnectAttempts: 2 });
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    await connectTo(client, server);
    server.stop();
    server.kick(1006);
    await tick(10_000);
    expect(client.state).toBe('closed');
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['RECONNECT_FAILED']);
  });

  it('resets the attempt count only after healthyAfter ms of uptime (a flapping server keeps backing off)', async () => {
    const { client } = make({ healthyAfter: 1000 });
    const delays: number[] = [];
    client.on('reconnecting', (r) => delays.push(r.attempt));
    await connectTo(client, server);
    for (let i = 0; i < 3; i++) {
      server.kick(1001);
      await tick(2000); // back after ≤ 200 ms, then up for ≥ 1800 ms: healthy
      expect(client.state).toBe('open');
    }
    expect(delays).toEqual([1, 1, 1]); // each connection was healthy, so each loss starts again at attempt 1
    server.kick(1001);
    await tick(300); // back after ≤ 200 ms, up < 1000 ms: not healthy yet
    server.kick(1001);
    await tick(10);
    expect(delays).toEqual([1, 1, 1, 1, 2]);
  });

  it('sends a ping every pingInterval, and closes with 4000 then reconnects when nothing arrives within pingTimeout', async () => {
    const { client } = make({ pingInterval: 1000, pingTimeout: 500 });
    const closes: number[] = [];
    client.on('close', (c) => closes.push(c.code));
    await connectTo(client, server);
    await tick(1000);
    expect(server.sent('ping')).toHaveLength(1); // the server answered: alive
    await tick(1000);
    expect(client.state).toBe('open');
    server.opts.mute = true; // half-open: nothing comes back
    await tick(1400); // the next ping went out ~1000 ms after the last; its deadline is 500 ms later
    expect(client.state).toBe('open');
    await tick(200);
    expect(closes).toEqual([4000]);
    expect(client.state).toBe('reconnecting');
    server.opts.mute = false;
    await tick(300);
    expect(client.state).toBe('open');
  });

  it('counts any inbound frame as a sign of life', async () => {
    const { client } = make({ pingInterval: 1000, pingTimeout: 500 });
    server.opts.mute = true;
    await connectTo(client, server);
    for (let i = 0; i < 10; i++) {
      await tick(400);
      server.trade();
    }
    expect(client.state).toBe('open');
    expect(server.sent('ping').length).toBeGreaterThanOrEqual(3);
  });

  it('answers a server ping with pong', async () => {
    const { client } = make();
    await connectTo(client, server);
    server.last.send(JSON.stringify({ type: 'ping', timestamp: 'x' }));
    await tick();
    expect(server.sent('pong')).toEqual([{ type: 'pong' }]);
  });

  it.each([
    ['open', async () => {}],
    ['waiting out a backoff', async () => {
      server.kick(1001);
      await tick(5);
    }],
    ['a reconnect attempt is waiting for connected', async () => {
      server.opts.silent = true;
      server.kick(1001);
      await tick(300);
      expect(client.state).toBe('connecting');
    }],
    ['the restoring subscribe is in flight', async () => {
      const sub = client.subscribe({ topics: ['alerts'] });
      await tick();
      await sub;
      server.opts.mute = true;
      server.kick(1001);
      await tick(300);
      expect(server.sent('subscribe')).toHaveLength(2);
      expect(client.state).toBe('connecting');
    }],
    ['with a command and a listen() pending', async () => {
      server.opts.mute = true;
      void client.getStatus().catch(() => {});
      void client.listen().next();
      await tick(5);
    }],
  ])('leaves no timer behind after disconnect() while %s', async (_name, during) => {
    make({ pingInterval: 1000 });
    await connectTo(client, server);
    await during();
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await client.disconnect();
    await tick(10); // let mock-socket finish its own close callbacks
    expect(vi.getTimerCount()).toBe(0);
  });
});
