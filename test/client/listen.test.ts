import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ListenOverflowError, ProtocolError, SigmaxWebSocketClient, type SigmaxError } from '../../src/index.js';
import { MockSigmax, MockWS, tick, connectTo } from '../helpers/mock-sigmax.js';

let server: MockSigmax;
let client: SigmaxWebSocketClient;

beforeEach(async () => {
  vi.useFakeTimers();
  server = new MockSigmax();
  client = new SigmaxWebSocketClient({ WebSocket: MockWS, pingInterval: 0, listenBufferSize: 3 });
  await connectTo(client, server);
});
afterEach(async () => {
  await client.disconnect();
  server.stop();
  vi.useRealTimers();
});

describe('listen()', () => {
  it('gives every listener every event, filtered by type and topic', async () => {
    const all = client.listen();
    const trades = client.listen({ types: ['trade_executed'] });
    const alerts = client.listen({ topics: ['ALERTS'] });
    server.trade(1);
    server.last.send(JSON.stringify({ type: 'alert', data: { message: 'x' }, topic: 'alerts', seq: 2 }));
    await tick();
    expect((await all.next()).value).toMatchObject({ type: 'trade_executed' });
    expect((await all.next()).value).toMatchObject({ type: 'alert' });
    expect((await trades.next()).value).toMatchObject({ type: 'trade_executed' });
    expect((await alerts.next()).value).toMatchObject({ type: 'alert' });
  });

  it('fails with ListenOverflowError when the consumer falls behind its bound, by default', async () => {
    const it = client.listen();
    for (let i = 1; i <= 4; i++) server.trade(i);
    await tick();
    const err = await it.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListenOverflowError);
    expect(err).toMatchObject({ code: 'LISTEN_OVERFLOW' });
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it("drops the oldest with overflow: 'drop-oldest'", async () => {
    const it = client.listen({ overflow: 'drop-oldest', bufferSize: 2 });
    for (let i = 1; i <= 5; i++) server.trade(i);
    await tick();
    expect([(await it.next()).value, (await it.next()).value].map((e) => (e as { seq: number }).seq)).toEqual([4, 5]);
  });

  it('ends when the signal aborts, and on break, releasing its place', async () => {
    const ac = new AbortController();
    const it = client.listen({ signal: ac.signal });
    const pending = it.next();
    ac.abort();
    expect(await pending).toEqual({ value: undefined, done: true });
    let n = 0;
    server.trade(1);
    server.trade(2);
    await tick();
    const loop = (async () => {
      for await (const _ of client.listen()) {
        n++;
        break;
      }
    })();
    server.trade(3);
    await tick();
    await loop;
    expect(n).toBe(1);
    // both iterators are gone: nothing is buffered for them any more
    expect(client.stats().iterators).toBe(0);
  });

  it('counts open iterators, and drops counted by drop-oldest', async () => {
    const a = client.listen({ overflow: 'drop-oldest', bufferSize: 2 });
    const b = client.listen({ types: ['alert'] });
    expect(client.stats().iterators).toBe(2);
    for (let i = 1; i <= 5; i++) server.trade(i);
    await tick();
    expect(client.stats().eventsDropped).toBe(3);
    await a.return?.();
    await b.return?.();
    expect(client.stats().iterators).toBe(0);
  });

  it('answers next() calls made before the previous one settled, in order', async () => {
    const it = client.listen();
    const first = it.next();
    const second = it.next();
    const third = it.next();
    server.trade(1);
    server.trade(2);
    await tick();
    expect((await first).value).toMatchObject({ seq: 1 });
    expect((await second).value).toMatchObject({ seq: 2 });
    await client.disconnect();
    expect(await third).toEqual({ value: undefined, done: true });
  });

  it('throws a TypeError for a bad bufferSize or overflow', () => {
    expect(() => client.listen({ bufferSize: 0 })).toThrow(/`bufferSize`.*0/);
    expect(() => client.listen({ overflow: 'drop' as never })).toThrow(/`overflow`.*drop/);
    expect(client.stats().iterators).toBe(0);
  });

  it('ends every iterator on disconnect()', async () => {
    const a = client.listen();
    const b = client.listen({ types: ['alert'] });
    const pa = a.next();
    await client.disconnect();
    expect(await pa).toEqual({ value: undefined, done: true });
    expect(await b.next()).toEqual({ value: undefined, done: true });
    expect(await client.listen().next()).toEqual({ value: undefined, done: true });
  });
});

describe('frame validation', () => {
  it('reports an invalid frame through error with the raw frame, counts it, and keeps the connection', async () => {
    const errors: SigmaxError[] = [];
    client.on('error', (e) => errors.push(e));
    server.last.send('not json');
    server.last.send(JSON.stringify({ type: 'trade_executed', data: { symbol: 1 } }));
    server.trade(1);
    await tick();
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect(errors[0]).toMatchObject({ code: 'INVALID_FRAME', frame: 'not json' });
    expect(client.stats()).toMatchObject({ invalidFrames: 2, eventsReceived: 1, state: 'open' });
  });

  it('passes unknown event types to the unknown event only', async () => {
    const unknown: string[] = [];
    const all: string[] = [];
    client.on('unknown', (e) => unknown.push(e.type));
    client.on('*', (e) => all.push(e.type));
    server.last.send(JSON.stringify({ type: 'brand_new', data: {} }));
    await tick();
    expect(unknown).toEqual(['brand_new']);
    expect(all).toEqual([]);
  });

  it('reports a throwing handler as HANDLER_ERROR and keeps delivering', async () => {
    const errors: SigmaxError[] = [];
    client.on('error', (e) => errors.push(e));
    client.on('trade_executed', () => {
      throw new Error('boom');
    });
    server.trade(1);
    server.trade(2);
    await tick();
    expect(errors.map((e) => e.code)).toEqual(['HANDLER_ERROR', 'HANDLER_ERROR']);
    expect(client.state).toBe('open');
  });

  it('on() returns an idempotent off that removes only its own registration', async () => {
    const got: string[] = [];
    const h = (): void => void got.push('h');
    const off1 = client.on('trade_executed', h);
    client.on('trade_executed', h);
    off1();
    off1();
    server.trade(1);
    await tick();
    expect(got).toEqual(['h']);
  });
});
