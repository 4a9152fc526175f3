import { describe, expect, it, vi } from 'vitest';
import { Hub, type Subscriber } from '../../src/server/hub.js';
import type { SequencedEvent } from '../../src/server/log/types.js';

function sub(): Subscriber & { got: { seq: number; payload: Buffer }[] } {
  return {
    topics: null,
    symbols: null,
    got: [],
    deliver(event: SequencedEvent, payload: Buffer) {
      this.got.push({ seq: event.seq, payload });
    },
  };
}

const market = (seq: number): SequencedEvent => ({
  type: 'market_update',
  topic: 'market',
  seq,
  timestamp: 't',
  data: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'].map((symbol) => ({ symbol, price: 1, volume_24h: 1, change_24h: 0 })),
});

describe('Hub', () => {
  it('serialises an event once for all its whole-topic recipients, and shares the buffer', () => {
    const hub = new Hub(false);
    const subs = Array.from({ length: 50 }, sub);
    subs.forEach((s, i) => hub.subscribe(s, i % 2 ? ['all'] : ['executions'], []));
    const encode = vi.spyOn(hub, 'encode');
    hub.dispatch({ type: 'trade_executed', topic: 'executions', seq: 1, timestamp: 't', data: { symbol: 'BTC/USDT' } });
    expect(encode).toHaveBeenCalledTimes(1);
    const first = subs[0]!.got[0]!.payload;
    for (const s of subs) expect(s.got).toEqual([{ seq: 1, payload: first }]);
  });

  it('serialises a market_update once per distinct symbol set', () => {
    const hub = new Hub(false);
    const btc = [sub(), sub(), sub()];
    const btcEth = [sub(), sub()];
    const whole = sub();
    for (const s of btc) hub.subscribe(s, [], ['BTC/USDT']);
    for (const s of btcEth) hub.subscribe(s, [], ['ETH/USDT', 'BTC/USDT', 'XRP/USDT']);
    hub.subscribe(whole, ['market'], ['BTC/USDT']);
    const encode = vi.spyOn(hub, 'encode');
    hub.dispatch(market(7));
    expect(encode).toHaveBeenCalledTimes(3); // whole, [BTC], [BTC, ETH]
    expect(JSON.parse(btc[0]!.got[0]!.payload.toString()).data.map((e: { symbol: string }) => e.symbol)).toEqual(['BTC/USDT']);
    expect(JSON.parse(btcEth[1]!.got[0]!.payload.toString()).data.map((e: { symbol: string }) => e.symbol)).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(JSON.parse(whole.got[0]!.payload.toString()).data).toHaveLength(3);
    for (const s of [...btc, ...btcEth, whole]) expect(s.got).toHaveLength(1);
  });

  it('serialises nothing when nobody matches', () => {
    const hub = new Hub(false);
    hub.subscribe(sub(), ['alerts'], ['DOGE/USDT']);
    const encode = vi.spyOn(hub, 'encode');
    hub.dispatch(market(1));
    expect(encode).not.toHaveBeenCalled();
  });

  it('keeps its index consistent through subscribe/unsubscribe/removeAll', () => {
    const hub = new Hub(false);
    const a = sub();
    hub.subscribe(a, ['market', 'alerts'], ['BTC/USDT']);
    hub.subscribe(a, ['market'], ['BTC/USDT']);
    expect(hub.subscriptionCount).toBe(3);
    hub.unsubscribe(a, ['alerts', 'health'], []);
    expect(hub.subscriptionCount).toBe(2);
    expect(hub.topicsInUse()).toEqual(['market']);
    hub.removeAll(a);
    expect(hub.subscriptionCount).toBe(0);
    expect(hub.topicsInUse()).toEqual([]);
    expect(hub.symbolsInUse()).toEqual([]);
    expect(a.topics).toBeNull();
    expect(a.symbols).toBeNull();
  });

  it('omits topic and seq in Part A mode', () => {
    const frame = JSON.parse(new Hub(true).encode(market(3)).toString());
    expect(Object.keys(frame).sort()).toEqual(['data', 'timestamp', 'type']);
  });
});
