/** The first connect() waits out a restart: transient failures are retried with backoff, fatal ones reject at once. */
import { describe, expect, it, vi } from 'vitest';
import { AuthenticationError, SigmaxWebSocketClient, type ClientOptions, type StateChange } from '../../src/index.js';
import { MockSigmax, MockWS, tick, useFakeTime } from '../helpers/mock-sigmax.js';

let server: MockSigmax;
let client: SigmaxWebSocketClient;
let states: StateChange[];

function make(opts: ClientOptions = {}): SigmaxWebSocketClient {
  states = [];
  client = new SigmaxWebSocketClient({ WebSocket: MockWS, minReconnectDelay: 100, maxReconnectDelay: 200, random: () => 0.5, pingInterval: 0, listeners: { state: (s) => states.push(s), error: () => {} }, ...opts });
  return client;
}

useFakeTime(async () => {
  await client?.disconnect();
  server?.stop();
});

describe('first connect()', () => {
  it('waits out a server that is down, then resolves and restores the subscriptions; state events show each attempt', async () => {
    server = new MockSigmax();
    server.stop();
    make();
    await client.subscribe({ topics: ['executions'] });
    let info: string | undefined;
    const p = client.connect(server.url).then((i) => (info = i.connectionId));
    await tick(1000);
    expect(info).toBeUndefined();
    expect(client.state).not.toBe('closed');
    server.start();
    await tick(300);
    await p;
    expect(info).toBe('c0');
    expect(server.sent('subscribe')[0]?.data).toMatchObject({ topics: ['executions'] });
    const tos = states.map((s) => s.to);
    expect(tos.slice(0, 3)).toEqual(['connecting', 'reconnecting', 'connecting']);
    expect(tos.filter((t) => t === 'connecting').length).toBeGreaterThanOrEqual(3);
    expect(tos.at(-1)).toBe('open');
  });

  it.each([1011, 1012, 1013])('retries a refusal with close %i', async (code) => {
    server = new MockSigmax({ refuse: { code: 'MAX_CONNECTIONS_EXCEEDED', close: code } });
    make();
    const p = client.connect(server.url);
    await tick(400);
    expect(server.sockets.length).toBeGreaterThanOrEqual(2);
    server.opts.refuse = undefined;
    await tick(500);
    expect((await p).connectionId).toMatch(/^c\d+$/);
    expect(client.state).toBe('open');
  });

  it('retries a CONNECT_TIMEOUT', async () => {
    server = new MockSigmax({ silent: true });
    make({ connectTimeout: 300 });
    const p = client.connect(server.url);
    await tick(400);
    server.opts.silent = false;
    await tick(600);
    expect((await p).connectionId).toBe('c1');
  });

  it('rejects at once on 1008 (authentication)', async () => {
    server = new MockSigmax({ refuse: { code: 'AUTHENTICATION_FAILED', close: 1008 } });
    make();
    const p = client.connect(server.url).catch((e: unknown) => e);
    await tick(5000);
    expect(await p).toBeInstanceOf(AuthenticationError);
    expect(server.sockets).toHaveLength(1);
    expect(client.state).toBe('closed');
  });

  it('rejects at once on an invalid URL', async () => {
    make();
    const p = client.connect('not a url').catch((e: unknown) => e);
    await tick(5000);
    expect(await p).toMatchObject({ code: 'CONNECTION_FAILED' });
    expect(client.state).toBe('closed');
  });

  it('rejects with RECONNECT_FAILED once maxReconnectAttempts are spent', async () => {
    server = new MockSigmax({ refuse: { code: 'MAX_CONNECTIONS_EXCEEDED', close: 1013 } });
    make({ maxReconnectAttempts: 2 });
    const p = client.connect(server.url).catch((e: unknown) => e);
    await tick(5000);
    expect(await p).toMatchObject({ code: 'RECONNECT_FAILED' });
    expect(server.sockets).toHaveLength(3);
    expect(client.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with ClosedError when disconnect() is called between attempts', async () => {
    server = new MockSigmax();
    server.stop();
    make();
    const p = client.connect(server.url).catch((e: unknown) => e);
    await tick(500);
    await client.disconnect();
    expect(await p).toMatchObject({ name: 'ClosedError' });
    await tick(10);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects when connect({ signal }) aborts, and when the signal option aborts', async () => {
    server = new MockSigmax();
    server.stop();
    make();
    const ac = new AbortController();
    const p = client.connect({ url: server.url, signal: ac.signal }).catch((e: unknown) => e);
    await tick(500);
    ac.abort();
    expect(await p).toMatchObject({ code: 'ABORTED' });
    expect(client.state).toBe('closed');
    await tick(10);
    expect(vi.getTimerCount()).toBe(0);

    const ac2 = new AbortController();
    make({ signal: ac2.signal, url: server.url });
    const q = client.connect().catch((e: unknown) => e);
    await tick(500);
    ac2.abort();
    expect(await q).toMatchObject({ code: 'ABORTED' });
  });

  it('retryFirstConnect: false keeps the old behaviour: the first failure rejects', async () => {
    server = new MockSigmax({ refuse: { code: 'MAX_CONNECTIONS_EXCEEDED', close: 1013 } });
    make({ retryFirstConnect: false });
    const p = client.connect(server.url).catch((e: unknown) => e);
    await tick(5000);
    expect(await p).toMatchObject({ name: 'ServerError', code: 'MAX_CONNECTIONS_EXCEEDED' });
    expect(server.sockets).toHaveLength(1);
  });
});
