/** Batched frames (PROTOCOL.md Part B 7), client side: asking for them, and unpacking them transparently. */
import { describe, expect, it } from 'vitest';
import { SigmaxWebSocketClient, type SigmaxError, type SigmaxEvent } from '../../src/index.js';
import { MockSigmax, MockWS, connectTo, tick, useFakeTime } from '../helpers/mock-sigmax.js';

let server: MockSigmax | undefined;
let client: SigmaxWebSocketClient | undefined;
useFakeTime(async () => {
  await client?.disconnect();
  server?.stop();
  client = server = undefined;
});

const trade = (seq: number) => ({
  type: 'trade_executed',
  data: { proposal_id: `p${seq}`, symbol: 'BTC/USDT', action: 'buy', size: 1, filled_price: 1, order_id: `o${seq}`, status: 'filled' },
  timestamp: '2026-11-30T00:00:00.000Z',
  topic: 'executions',
  seq,
});
const batch = (events: unknown[]) => JSON.stringify({ type: 'batch', events });

/** A client whose socket records the URL it was opened with. */
function urlOf(options: ConstructorParameters<typeof SigmaxWebSocketClient>[0]): string {
  const urls: string[] = [];
  class UrlSocket {
    readyState = 0;
    onopen = null;
    onmessage = null;
    onclose = null;
    onerror = null;
    constructor(url: string) {
      urls.push(url);
    }
    send(): void {}
    close(): void {
      this.readyState = 3;
    }
  }
  client = new SigmaxWebSocketClient({ ...options, WebSocket: UrlSocket as never, connectTimeout: 60_000 });
  void client.connect('ws://h.test/api/ws').catch(() => {});
  return urls[0]!;
}

describe('client: asking for batched frames', () => {
  it('adds batch=1 by default, batch_ms with maxDelayMs, nothing with batch: false', () => {
    expect(urlOf({})).toBe('ws://h.test/api/ws?batch=1');
    expect(urlOf({ apiKey: 'k' })).toBe('ws://h.test/api/ws?api_key=k&batch=1');
    expect(urlOf({ batch: true })).toBe('ws://h.test/api/ws?batch=1');
    expect(urlOf({ batch: { maxDelayMs: 20 } })).toBe('ws://h.test/api/ws?batch=1&batch_ms=20');
    expect(urlOf({ batch: false })).toBe('ws://h.test/api/ws');
  });

  it('refuses an invalid batch option with a TypeError quoting it', () => {
    expect(() => new SigmaxWebSocketClient({ batch: 'yes' as never })).toThrow(/`batch`.*"yes"/);
    expect(() => new SigmaxWebSocketClient({ batch: { maxDelayMs: -1 } })).toThrow(/`batch.maxDelayMs`.*-1/);
  });
});

describe('client: unpacking batched frames', () => {
  it('hands each event of a batch to handlers and listen(), in order, as single events', async () => {
    server = new MockSigmax();
    client = new SigmaxWebSocketClient({ url: server.url, WebSocket: MockWS });
    await connectTo(client, server);
    const seen: number[] = [];
    const all: string[] = [];
    client.on('trade_executed', (e) => seen.push(e.seq!));
    client.on('*', (e) => all.push(e.type));
    const it = client.listen()[Symbol.asyncIterator]();
    server.last.send(batch([trade(1), trade(2), trade(3)]));
    server.trade(4);
    server.last.send(batch([trade(5), trade(6)]));
    await tick();
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(all).toHaveLength(6);
    const got: number[] = [];
    for (let i = 0; i < 6; i++) got.push(((await it.next()).value as SigmaxEvent).seq!);
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(client.stats()).toMatchObject({ eventsReceived: 6, invalidFrames: 0, position: { epoch: 'e1', seq: 6 } });
  });

  it('reports an invalid event inside a batch like an invalid frame and still delivers the others', async () => {
    server = new MockSigmax();
    client = new SigmaxWebSocketClient({ url: server.url, WebSocket: MockWS });
    await connectTo(client, server);
    const seen: number[] = [];
    const errors: SigmaxError[] = [];
    client.on('trade_executed', (e) => seen.push(e.seq!));
    client.on('error', (e) => errors.push(e));
    const bad = { ...trade(2), data: { ...trade(2).data, size: 'big' } };
    server.last.send(batch([trade(1), bad, 'not an event', trade(3)]));
    await tick();
    expect(seen).toEqual([1, 3]);
    expect(errors.map((e) => e.code)).toEqual(['INVALID_FRAME', 'INVALID_FRAME']);
    expect(errors[0]!.message).toMatch(/trade_executed data\.size/);
    expect(client.stats().invalidFrames).toBe(2);
  });

  it('drops duplicates inside and across batches by seq', async () => {
    server = new MockSigmax();
    client = new SigmaxWebSocketClient({ url: server.url, WebSocket: MockWS });
    await connectTo(client, server);
    const seen: number[] = [];
    client.on('trade_executed', (e) => seen.push(e.seq!));
    server.last.send(batch([trade(1), trade(2), trade(2)]));
    server.last.send(batch([trade(2), trade(3)]));
    await tick();
    expect(seen).toEqual([1, 2, 3]);
    expect(client.stats().duplicatesDropped).toBe(2);
  });
});
