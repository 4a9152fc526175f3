/** Type tests: checked by `tsc --noEmit` (npm test runs it first); the runtime part only asserts the calls exist. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  SigmaxWebSocketClient,
  WSEventType,
  type CloseInfo,
  type GapMarker,
  type SigmaxError,
  type SigmaxEvent,
  type StateChange,
} from '../../src/index.js';

describe('typed API', () => {
  it('types handlers per event type', () => {
    const client = new SigmaxWebSocketClient();
    const off = client.on(WSEventType.TRADE_EXECUTED, (e) => {
      expectTypeOf(e.type).toEqualTypeOf<'trade_executed'>();
      expectTypeOf(e.data.filled_price).toEqualTypeOf<number>();
      expectTypeOf(e.data.symbol).toEqualTypeOf<string>();
      expectTypeOf(e.seq).toEqualTypeOf<number | null | undefined>();
    });
    expectTypeOf(off).toEqualTypeOf<() => void>();
    client.on('market_update', (e) => expectTypeOf(e.data[0]!.price).toEqualTypeOf<number>());
    client.on('state', (s) => expectTypeOf(s).toEqualTypeOf<StateChange>());
    client.on('close', (c) => expectTypeOf(c).toEqualTypeOf<CloseInfo>());
    client.on('error', (e) => expectTypeOf(e).toEqualTypeOf<SigmaxError>());
    client.on('*', (e) => expectTypeOf(e).toEqualTypeOf<SigmaxEvent>());
    // @ts-expect-error: handler of the wrong event type
    client.on('trade_executed', (e: SigmaxEvent<'alert'>) => e);
    // @ts-expect-error: not an event (and a TypeError at run time)
    expect(() => client.on('nope', () => {})).toThrow(TypeError);
    off();
  });

  it('narrows listen() items by the types filter', () => {
    const client = new SigmaxWebSocketClient();
    const it = client.listen({ types: ['trade_executed', 'alert'] });
    expectTypeOf(it).toEqualTypeOf<AsyncIterableIterator<SigmaxEvent<'trade_executed' | 'alert'> | GapMarker>>();
    void (async () => {
      for await (const e of it) {
        if (e.type === 'gap') expectTypeOf(e.seq).toEqualTypeOf<number>();
        else if (e.type === 'trade_executed') expectTypeOf(e.data.order_id).toEqualTypeOf<string>();
        else expectTypeOf(e.type).toEqualTypeOf<'alert'>();
      }
    });
    // @ts-expect-error: not a published event type
    client.listen({ types: ['connected'] });
    void it.return?.();
  });

  it('types command replies', () => {
    const client = new SigmaxWebSocketClient();
    expectTypeOf(client.getPortfolio).returns.resolves.toHaveProperty('total_value');
    // Not connected: both reject at run time (NOT_CONNECTED); only their types matter here.
    const health = client.command('get_health');
    const custom = client.command('custom');
    health.catch(() => {});
    custom.catch(() => {});
    expectTypeOf(health).resolves.toHaveProperty('cpu_percent');
    expectTypeOf(custom).resolves.toEqualTypeOf<unknown>();
    expectTypeOf(client.ping).returns.resolves.toEqualTypeOf<number>();
  });
});
