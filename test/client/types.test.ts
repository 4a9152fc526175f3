/** Type tests: checked by `tsc --noEmit` (npm test runs it first); the runtime part only asserts the calls exist. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  SigmaxWebSocketClient,
  WSEventType,
  type AnalysisDecision,
  type CloseInfo,
  type EventDataMap,
  type SubscriptionTopic,
  type TopicName,
  type TradeAction,
  type TradeStatus,
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

  it('catches typos in payload fields, literal values and topics', () => {
    const client = new SigmaxWebSocketClient();
    client.on('trade_executed', (e) => {
      expectTypeOf(e.data.action).toEqualTypeOf<TradeAction>();
      expectTypeOf(e.data.status).toEqualTypeOf<TradeStatus>();
      // @ts-expect-error: typo in a field name (handler)
      void e.data.filed_price;
      // @ts-expect-error: typo in a field name (destructuring)
      const { filed_price } = e.data;
      void filed_price;
      // @ts-expect-error: not an action
      void (e.data.action === 'bye');
      // @ts-expect-error: not a status
      void (e.data.status === 'filed');
    });
    client.on('analysis_update', (e) => {
      expectTypeOf(e.data.decision).toEqualTypeOf<AnalysisDecision>();
      // @ts-expect-error: not a decision
      void (e.data.decision === 'holdd');
    });
    client.on('proposal_created', (e) => {
      // @ts-expect-error: not an action
      void (e.data.action === 'purchase');
    });
    client.on('*', (e) => {
      // @ts-expect-error: typo in a field name, after narrowing by type
      if (e.type === 'trade_executed') void e.data.filed_price;
    });
    void (async () => {
      for await (const e of client.listen({ types: ['trade_executed'] })) {
        // @ts-expect-error: typo in a field name (listen)
        if (e.type !== 'gap') void e.data.filed_price;
      }
      // @ts-expect-error: typo in a field name (command reply)
      void (await client.getPortfolio()).total_valu;
    });
    const data = {} as EventDataMap['trade_executed'];
    // @ts-expect-error: typo in a field name (data type)
    void data.filed_price;
    // @ts-expect-error: not a topic
    void client.subscribe({ topics: ['execution'] }).catch(() => {});
    // @ts-expect-error: not a topic
    void client.listen({ topics: ['alert'] }).return?.();
    void client.subscribe({ topics: ['executions', 'ALERTS', 'Market'] }).catch(() => {});
    expectTypeOf<TopicName>().toEqualTypeOf<SubscriptionTopic | Capitalize<SubscriptionTopic> | Uppercase<SubscriptionTopic>>();
    expect(() => client.on('trade_executed', 1 as never)).toThrow(TypeError);
  });
});
