/**
 * The client never lies: state seen from inside handlers, restores that fail, replies of the wrong type, errors
 * during a restore, heartbeat pongs against a Part A server (issue 8).
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError, ServerError, SigmaxWebSocketClient, type ClientOptions, type GapInfo, type SigmaxError } from '../../src/index.js';
import { MockSigmax, MockWS, connectTo, tick, useFakeTime } from '../helpers/mock-sigmax.js';

let server: MockSigmax;
let client: SigmaxWebSocketClient;
let errors: SigmaxError[];

function make(opts: ClientOptions = {}, mock: ConstructorParameters<typeof MockSigmax>[0] = {}): SigmaxWebSocketClient {
  server = new MockSigmax(mock);
  errors = [];
  client = new SigmaxWebSocketClient({ WebSocket: MockWS, minReconnectDelay: 100, maxReconnectDelay: 200, random: () => 0.5, pingInterval: 0, commandTimeout: 1000, ...opts });
  client.on('error', (e) => errors.push(e));
  return client;
}

/** Awaits a call that needs a server reply while fake time moves. */
async function settled<T>(p: Promise<T>): Promise<T> {
  await tick();
  return p;
}

useFakeTime(async () => {
  await client?.disconnect();
  server?.stop();
});

describe('state seen from handlers', () => {
  it('inside a close handler the state is no longer open, and connect() resolves with the next connection', async () => {
    make();
    await connectTo(client, server);
    const seen: unknown[] = [];
    let next: Promise<string> | undefined;
    client.on('close', () => {
      seen.push(client.state, client.isConnected(), client.connectionId);
      next = client.connect().then((i) => i.connectionId);
    });
    server.kick(1001);
    await tick(500);
    expect(seen).toEqual(['reconnecting', false, undefined]);
    expect(await next).toBe('c1');
  });

  it('inside open and reconnected handlers the state is open with the new connection id', async () => {
    make();
    const seen: unknown[] = [];
    client.on('open', (i) => seen.push(client.state, client.connectionId === i.connectionId));
    await connectTo(client, server);
    server.kick(1001);
    await tick(500);
    expect(seen).toEqual(['open', true, 'open', true]);
  });
});

describe('restore either succeeds or says so', () => {
  it('a refused restoring subscribe is reported with the server code, dropped from the registry, and raises a gap when it carried since', async () => {
    make();
    const gaps: GapInfo[] = [];
    client.on('gap', (g) => gaps.push(g));
    await connectTo(client, server);
    await settled(client.subscribe({ topics: ['executions'] }));
    server.trade(1);
    await tick();
    server.opts.refuseSubscribe = 'TOO_MANY_SUBSCRIPTIONS';
    server.kick(1001);
    await tick(500);
    expect(client.state).toBe('open');
    expect(server.sent('subscribe').at(-1)?.data).toMatchObject({ topics: ['executions'], since: { epoch: 'e1', seq: 1 } });
    expect(errors.map((e) => e.code)).toEqual(['TOO_MANY_SUBSCRIPTIONS']);
    expect(errors[0]).toBeInstanceOf(ServerError);
    expect(gaps).toHaveLength(1);
    expect(client.position).toBeUndefined();
    server.opts.refuseSubscribe = undefined;
    const before = server.sent('subscribe').length;
    server.kick(1001);
    await tick(500);
    expect(client.state).toBe('open');
    expect(server.sent('subscribe')).toHaveLength(before); // never re-sent
  });

  it('a subscription queued during the restore and then refused is reported and not re-sent', async () => {
    make();
    await connectTo(client, server);
    await settled(client.subscribe({ topics: ['alerts'] }));
    server.opts.mute = true;
    server.kick(1001);
    await tick(300); // the restoring subscribe is in flight, unanswered
    const queued = await client.subscribe({ topics: ['executions'] });
    expect(queued.queued).toBe(true);
    server.answer(server.last, server.sent('subscribe').at(-1)!);
    server.opts.mute = false;
    server.opts.refuseSubscribe = 'TOO_MANY_SUBSCRIPTIONS';
    await tick();
    expect(server.sent('subscribe').at(-1)?.data).toMatchObject({ topics: ['executions'] });
    expect(errors.map((e) => e.code)).toEqual(['TOO_MANY_SUBSCRIPTIONS']);
    server.opts.refuseSubscribe = undefined;
    server.kick(1001);
    await tick(500);
    expect(client.state).toBe('open');
    expect(server.sent('subscribe').at(-1)?.data).toMatchObject({ topics: ['alerts'] });
  });

  it('an unsolicited error during the restore window reaches the error event', async () => {
    make();
    await connectTo(client, server);
    await settled(client.subscribe({ topics: ['alerts'] }));
    server.opts.mute = true;
    server.kick(1001);
    await tick(300);
    server.reply(server.last, 'error', { error: 'slow down', code: 'RATE_LIMITED' });
    server.answer(server.last, server.sent('subscribe').at(-1)!);
    await tick();
    expect(client.state).toBe('open');
    expect(errors.map((e) => e.code)).toEqual(['RATE_LIMITED']);
  });
});

describe('replies are matched by request_id and type', () => {
  it('a reply of the wrong type rejects the call with ProtocolError and is reported', async () => {
    make();
    await connectTo(client, server);
    server.opts.mute = true;
    const p = client.getPortfolio().catch((e: unknown) => e);
    await tick();
    server.reply(server.last, 'system_status', { running: true }, server.received.at(-1)!.frame.request_id);
    await tick();
    expect(await p).toBeInstanceOf(ProtocolError);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
  });

  it('a subscribe answered with another type rejects and records nothing', async () => {
    make();
    await connectTo(client, server);
    server.opts.mute = true;
    const p = client.subscribe({ topics: ['alerts'] }).catch((e: unknown) => e);
    await tick();
    server.reply(server.last, 'unsubscribed', { topics: ['alerts'], symbols: [] }, server.received.at(-1)!.frame.request_id);
    await tick();
    expect(await p).toBeInstanceOf(ProtocolError);
    server.opts.mute = false;
    server.kick(1001);
    await tick(500);
    expect(server.sent('subscribe')).toHaveLength(1); // nothing to restore
  });

  it('an error reply carrying a request_id (RATE_LIMITED) rejects that call at once with ServerError', async () => {
    make();
    await connectTo(client, server);
    server.opts.mute = true;
    const p = client.getStatus().catch((e: unknown) => e);
    await tick();
    server.reply(server.last, 'error', { error: 'slow down', code: 'RATE_LIMITED' }, server.received.at(-1)!.frame.request_id);
    await tick(1);
    const err = await p;
    expect(err).toBeInstanceOf(ServerError);
    expect(err).toMatchObject({ code: 'RATE_LIMITED' });
    expect(errors).toEqual([]);
  });

  it('against Part A, a heartbeat pong never settles a user ping(), which reports the true RTT', async () => {
    make({ pingInterval: 1000, pingTimeout: 5000 }, { partA: true });
    await connectTo(client, server);
    server.opts.mute = true;
    await tick(1000); // heartbeat ping out, unanswered yet
    expect(server.sent('ping')).toHaveLength(1);
    let rtt: number | undefined;
    void client.ping().then((r) => (rtt = r));
    await tick(100);
    server.reply(server.last, 'pong', { message: 'pong' }); // answers the heartbeat
    await tick(200);
    expect(rtt).toBeUndefined();
    server.reply(server.last, 'pong', { message: 'pong' }); // answers the user ping, 300 ms after it
    await tick(1);
    expect(rtt).toBeGreaterThanOrEqual(290);
    expect(rtt).toBeLessThan(320);
  });

  it('against Part B, ping() reports the true RTT', async () => {
    make();
    await connectTo(client, server);
    server.opts.mute = true;
    let rtt: number | undefined;
    void client.ping().then((r) => (rtt = r));
    await tick(250);
    server.answer(server.last, server.sent('ping').at(-1)!);
    await tick(1);
    expect(rtt).toBeGreaterThanOrEqual(240);
    expect(rtt).toBeLessThan(270);
  });
});

describe('small fixes', () => {
  it('on() with a non-function throws a TypeError that says so', () => {
    make();
    expect(() => client.on('open', 42 as never)).toThrow(/handler.*function/i);
    expect(() => client.on('open', 42 as never)).toThrow(TypeError);
  });

  it('on() with an unknown event name throws a TypeError', () => {
    make();
    expect(() => client.on('trade_exectued' as 'alert', () => {})).toThrow(TypeError);
    expect(() => client.on('trade_exectued' as 'alert', () => {})).toThrow(/trade_exectued/);
  });
});
