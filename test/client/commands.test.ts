import { describe, expect, it, vi } from 'vitest';
import { ClosedError, ConnectionError, ServerError, SigmaxWebSocketClient, TimeoutError, ValidationError } from '../../src/index.js';
import { MockSigmax, MockWS, tick, connectTo, useFakeTime } from '../helpers/mock-sigmax.js';

let server: MockSigmax;
let client: SigmaxWebSocketClient;
/** Awaits a promise while fake time runs; resolves with its value or rejection reason. */
async function settle<T>(p: Promise<T>): Promise<T | unknown> {
  const r = p.catch((e: unknown) => e);
  await tick();
  return r;
}

async function open(partA = false, commandTimeout = 1000): Promise<SigmaxWebSocketClient> {
  server = new MockSigmax({ partA });
  client = new SigmaxWebSocketClient({ WebSocket: MockWS, commandTimeout, pingInterval: 0 });
  await connectTo(client, server);
  return client;
}

useFakeTime(async () => {
  await client?.disconnect();
  server?.stop();
});

describe('commands', () => {
  it('correlates replies by request_id, even when they arrive out of order', async () => {
    await open();
    server.opts.mute = true;
    const a = client.getStatus();
    const b = client.getHealth();
    await tick();
    const [fa, fb] = server.received.map((r) => r.frame);
    expect(fa?.request_id).toBeTypeOf('string');
    expect(fa?.request_id).not.toBe(fb?.request_id);
    server.answer(server.last, fb!);
    server.answer(server.last, fa!);
    await tick();
    expect(await b).toMatchObject({ cpu_percent: 1 });
    expect(await a).toMatchObject({ running: true });
  });

  it('against a Part-A-only server, matches replies by type, first in first out', async () => {
    await open(true);
    const status = client.getStatus();
    const portfolio = client.getPortfolio();
    const unknown = client.command('analyze').catch((e: unknown) => e);
    const rtt = client.ping();
    const subs = client.getSubscriptions();
    await tick();
    expect(await status).toMatchObject({ running: true });
    expect(await portfolio).toMatchObject({ total_value: 1 });
    expect(await unknown).toMatchObject({ name: 'ServerError', code: 'UNKNOWN_COMMAND' });
    expect(await rtt).toBeGreaterThanOrEqual(0);
    expect(await subs).toEqual(['all']);
  });

  it('does not take a broadcast (connection_id null) for a Part A reply', async () => {
    await open(true);
    server.opts.mute = true;
    const status = client.getStatus();
    const events: string[] = [];
    client.on('system_status', (e) => events.push(String(e.data.running)));
    server.last.send(JSON.stringify({ type: 'system_status', data: { running: false }, timestamp: 't', connection_id: null }));
    await tick();
    expect(events).toEqual(['false']);
    server.answer(server.last, server.received.at(-1)!.frame);
    await tick();
    expect(await status).toMatchObject({ running: true });
  });

  it('rejects with ServerError carrying the server code', async () => {
    await open();
    const err = await settle(client.command('analyze', { symbol: 'BTC/USDT' }));
    expect(err).toBeInstanceOf(ServerError);
    expect(err).toMatchObject({ code: 'UNKNOWN_COMMAND' });
    expect(server.sent('command').at(-1)?.data).toEqual({ symbol: 'BTC/USDT', command: 'analyze' });
  });

  it('rejects with COMMAND_TIMEOUT when no reply comes, and a late reply is ignored', async () => {
    await open(false, 500);
    server.opts.mute = true;
    const p = client.getStatus().catch((e: unknown) => e);
    await tick(499);
    await tick(2);
    const err = await p;
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'COMMAND_TIMEOUT' });
    const errors: unknown[] = [];
    client.on('error', (e) => errors.push(e));
    server.answer(server.last, server.received.at(-1)!.frame);
    await tick();
    expect(errors).toEqual([]);
  });

  it('reports a request that timed out once: a late error reply to it is not emitted as an error', async () => {
    await open(false, 500);
    server.opts.mute = true;
    const p = client.command('analyze').catch((e: unknown) => e);
    await tick(600);
    expect(await p).toMatchObject({ code: 'COMMAND_TIMEOUT' });
    const errors: unknown[] = [];
    client.on('error', (e) => errors.push(e));
    server.answer(server.last, server.received.at(-1)!.frame);
    await tick();
    expect(server.received.at(-1)?.frame.data).toMatchObject({ command: 'analyze' });
    expect(errors).toEqual([]);
  });

  it('rejects with NOT_CONNECTED before connect, CONNECTION_LOST on a loss, CLIENT_CLOSED on disconnect', async () => {
    client = new SigmaxWebSocketClient({ WebSocket: MockWS });
    await expect(client.getStatus()).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    await open();
    server.opts.mute = true;
    const lost = client.getStatus().catch((e: unknown) => e);
    await tick();
    server.kick(1001);
    await tick();
    expect(await lost).toBeInstanceOf(ConnectionError);
    expect(await lost).toMatchObject({ code: 'CONNECTION_LOST' });
    await tick(3000);
    const closed = client.getStatus().catch((e: unknown) => e);
    await client.disconnect();
    expect(await closed).toBeInstanceOf(ClosedError);
    await expect(client.ping()).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });
});

describe('subscriptions', () => {
  it('resolves with the normalised lists and records them', async () => {
    await open();
    const r = await settle(client.subscribe({ topics: ['Executions'], symbols: ['btc/usdt'] }));
    expect(r).toMatchObject({ topics: ['executions'], symbols: ['BTC/USDT'] });
    expect(server.sent('subscribe').at(-1)?.data).toEqual({ topics: ['executions'], symbols: ['BTC/USDT'] });
  });

  it('rejects an invalid topic or symbol with ValidationError and sends and records nothing', async () => {
    await open();
    // @ts-expect-error: not a topic (a type error too); checked at run time for untyped callers
    const bad = await client.subscribe({ topics: ['bogus'] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect(bad).toMatchObject({ code: 'INVALID_TOPIC' });
    await expect(client.subscribe({ symbols: ['BTCUSDT'] })).rejects.toMatchObject({ code: 'INVALID_SYMBOL' });
    expect(server.sent('subscribe')).toEqual([]);
    server.kick(1001);
    await tick(3000);
    expect(client.state).toBe('open');
    expect(server.sent('subscribe')).toEqual([]); // nothing to restore
  });

  it('records subscriptions made while disconnected and restores all of them in ONE subscribe on every open', async () => {
    server = new MockSigmax({ partA: true });
    client = new SigmaxWebSocketClient({ WebSocket: MockWS, pingInterval: 0 });
    expect(await client.subscribe({ topics: ['executions'] })).toMatchObject({ queued: true });
    await client.subscribe({ symbols: ['ETH/USDT'] });
    await connectTo(client, server);
    await settle(client.subscribe({ topics: ['market'] }));
    await settle(client.unsubscribe({ symbols: ['eth/usdt'] }));
    server.kick(1001);
    await tick(3000);
    const subs = server.received.filter((r) => r.frame.type === 'subscribe');
    expect(subs.map((r) => [r.socket, r.frame.data])).toEqual([
      [0, { topics: ['executions'], symbols: ['ETH/USDT'] }],
      [0, { topics: ['market'], symbols: [] }],
      [1, { topics: ['executions', 'market'], symbols: [] }],
    ]);
  });

  it('does not treat events as live before the restoring subscribe is confirmed', async () => {
    server = new MockSigmax();
    client = new SigmaxWebSocketClient({ WebSocket: MockWS, pingInterval: 0 });
    await client.subscribe({ topics: ['executions'] });
    server.opts.mute = true;
    const p = client.connect(server.url);
    let opened = false;
    void p.then(() => (opened = true));
    await tick(100);
    expect(client.state).toBe('connecting');
    expect(opened).toBe(false);
    server.answer(server.last, server.sent('subscribe')[0]!);
    await tick();
    expect(opened).toBe(true);
    expect(client.state).toBe('open');
  });

  it('sends subscription changes made while the restore was in flight once it is confirmed', async () => {
    server = new MockSigmax();
    client = new SigmaxWebSocketClient({ WebSocket: MockWS, pingInterval: 0 });
    await client.subscribe({ topics: ['executions', 'alerts'] });
    server.opts.mute = true;
    const p = client.connect(server.url);
    await tick();
    expect(await client.subscribe({ topics: ['market'] })).toMatchObject({ queued: true });
    expect(await client.unsubscribe({ topics: ['alerts'] })).toMatchObject({ queued: true });
    server.opts.mute = false;
    server.answer(server.last, server.sent('subscribe')[0]!);
    await tick();
    await p;
    expect(server.received.map((r) => [r.frame.type, r.frame.data])).toEqual([
      ['subscribe', { topics: ['executions', 'alerts'], symbols: [] }],
      ['subscribe', { topics: ['market'], symbols: [] }],
      ['unsubscribe', { topics: ['alerts'], symbols: [] }],
    ]);
  });
});

describe('Part A reply matching', () => {
  it('gives an error to the request without a regular reply type (unknown command) before older requests', async () => {
    await open(true);
    server.opts.mute = true;
    const health = client.getHealth().catch((e: unknown) => e);
    const unknown = client.command('analyze').catch((e: unknown) => e);
    await tick();
    // like the reference server, answer out of order: the error first, health later
    server.reply(server.last, 'error', { error: 'Unknown command: analyze', code: 'UNKNOWN_COMMAND' });
    server.reply(server.last, 'health_update', { cpu_percent: 1, memory_percent: 1, disk_percent: 1, process_count: 1 });
    await tick();
    expect(await unknown).toMatchObject({ code: 'UNKNOWN_COMMAND' });
    expect(await health).toMatchObject({ cpu_percent: 1 });
  });

  it('gives errors to the other requests first in first out (each rejects with its own code)', async () => {
    await open(true);
    server.opts.mute = true;
    const sub = client.subscribe({ topics: ['market'] }).catch((e: unknown) => e);
    const unknown = client.command('analyze').catch((e: unknown) => e);
    await tick();
    server.reply(server.last, 'error', { error: 'too many', code: 'TOO_MANY_SUBSCRIPTIONS' });
    server.reply(server.last, 'error', { error: 'Unknown command: analyze', code: 'UNKNOWN_COMMAND' });
    await tick();
    expect(await sub).toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS' });
    expect(await unknown).toMatchObject({ code: 'UNKNOWN_COMMAND' });
  });

  it('does not take the status a server sends on accept for the reply to a request made right after connect()', async () => {
    // A browser runs the code after `await connect()` before it handles the next frame: the greeting can come later.
    server = new MockSigmax({ partA: true, mute: true });
    client = new SigmaxWebSocketClient({ WebSocket: MockWS, pingInterval: 0 });
    await connectTo(client, server);
    const statuses: unknown[] = [];
    client.on('system_status', (e) => statuses.push(e.data));
    const subs = client.getSubscriptions();
    await tick();
    server.reply(server.last, 'system_status', { running: true, mode: 'paper' }); // the greeting, late
    server.answer(server.last, server.received.at(-1)!.frame);
    await tick();
    expect(await subs).toEqual(['all']);
    expect(statuses).toEqual([{ running: true, mode: 'paper' }]);
  });
});
