import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, TOPICS, parseServerFrame } from '../../src/protocol/index.js';
import { SAMPLE, connect, open, startServer } from './helpers.js';

describe('Part A: accept', () => {
  it('sends connected (Part A fields + protocol, features, epoch) then system_status', async () => {
    const server = await startServer();
    const c = await open(server);
    const connected = await c.next('connected');
    const status = await c.next('system_status');
    expect(c.frames.indexOf(connected)).toBe(0);
    expect(c.frames.indexOf(status)).toBe(1);
    expect(connected.data).toMatchObject({
      message: expect.any(String),
      server_version: expect.any(String),
      connection_id: expect.any(String),
      available_topics: [...TOPICS],
      instructions: expect.any(String),
      protocol: PROTOCOL_VERSION,
      epoch: server.epoch,
    });
    expect(connected.data.features).toEqual(expect.arrayContaining(['request_id', 'exactly_once', 'resume', 'close_codes', 'limits']));
    expect(connected.connection_id).toBe(connected.data.connection_id);
    expect(status.data).toMatchObject({ initialized: true, running: true, uptime: expect.any(Number) });
    for (const raw of c.raw) expect(parseServerFrame(raw)).toMatchObject({ ok: true, known: true });
  });

  it('gives each connection its own connection_id', async () => {
    const server = await startServer();
    const [a, b] = await Promise.all([open(server), open(server)]);
    const [ca, cb] = await Promise.all([a.next('connected'), b.next('connected')]);
    expect(ca.data.connection_id).not.toBe(cb.data.connection_id);
  });
});

describe('Part A: client messages', () => {
  it('subscribe answers subscribed with normalised, de-duplicated lists', async () => {
    const server = await startServer();
    const c = await connect(server);
    const r = await c.request({ type: 'subscribe', data: { topics: [' Market', 'PORTFOLIO', 'market'], symbols: ['btc/usdt', 'BTC/USDT', 'eth/usdt '] } }, 'subscribed');
    expect(r.data).toMatchObject({ topics: ['market', 'portfolio'], symbols: ['BTC/USDT', 'ETH/USDT'], message: expect.any(String) });
    expect(r.connection_id).toBe(c.frames[0]!.data.connection_id);
  });

  it('subscribe with empty data is valid and changes nothing', async () => {
    const server = await startServer();
    const c = await connect(server);
    const r = await c.request({ type: 'subscribe', data: {} }, 'subscribed');
    expect(r.data).toMatchObject({ topics: [], symbols: [] });
  });

  it('unsubscribe answers unsubscribed and stops delivery', async () => {
    const server = await startServer();
    const c = await connect(server);
    await c.request({ type: 'subscribe', data: { topics: ['executions', 'alerts'], symbols: ['BTC/USDT'] } }, 'subscribed');
    const r = await c.request({ type: 'unsubscribe', data: { topics: ['EXECUTIONS'], symbols: ['btc/usdt'] } }, 'unsubscribed');
    expect(r.data).toMatchObject({ topics: ['executions'], symbols: ['BTC/USDT'], message: expect.any(String) });
    const subs = await c.request({ type: 'get_subscriptions' }, 'system_status');
    expect(subs.data).toEqual({ subscriptions: ['alerts'], count: 1 });
    await server.publish('trade_executed', SAMPLE.trade());
    await server.publish('alert', SAMPLE.alert());
    await c.next('alert');
    expect(c.all('trade_executed')).toHaveLength(0);
  });

  it('ping answers pong {message: pong}', async () => {
    const server = await startServer();
    const c = await connect(server);
    const r = await c.request({ type: 'ping' }, 'pong');
    expect(r.data).toEqual({ message: 'pong' });
  });

  it('pong answers nothing', async () => {
    const server = await startServer();
    const c = await connect(server);
    c.send({ type: 'pong' });
    await c.request({ type: 'ping', request_id: 'after' }, 'pong');
    expect(c.frames.map((f) => f.type)).toEqual(['connected', 'system_status', 'pong']);
  });

  it('command get_status / get_portfolio / get_health and type get_status answer with their events', async () => {
    const server = await startServer();
    const c = await connect(server);
    const s = await c.request({ type: 'command', data: { command: 'get_status' } }, 'system_status');
    expect(s.data).toMatchObject({ running: true });
    const p = await c.request({ type: 'command', data: { command: 'get_portfolio' } }, 'portfolio_update');
    expect(p.data).toMatchObject({ total_value: expect.any(Number), positions: expect.any(Array) });
    const h = await c.request({ type: 'command', data: { command: 'get_health' } }, 'health_update');
    for (const k of ['cpu_percent', 'memory_percent', 'disk_percent', 'process_count']) expect(typeof h.data[k]).toBe('number');
    expect(h.data.process_count).toBeGreaterThan(0);
    expect(h.data.memory_percent).toBeGreaterThan(0);
    const t = await c.request({ type: 'get_status' }, 'system_status');
    expect(t.data).toMatchObject({ initialized: true });
    for (const raw of c.raw) expect(parseServerFrame(raw)).toMatchObject({ ok: true, known: true });
  });

  it('get_portfolio answers with the last published portfolio_update', async () => {
    const server = await startServer();
    const c = await connect(server);
    await server.publish('portfolio_update', { ...SAMPLE.portfolio(), total_value: 4242 });
    const p = await c.request({ type: 'command', data: { command: 'get_portfolio' } }, 'portfolio_update');
    expect(p.data.total_value).toBe(4242);
  });

  it('an unknown command answers error UNKNOWN_COMMAND', async () => {
    const server = await startServer();
    const c = await connect(server);
    const e = await c.request({ type: 'command', data: { command: 'analyze', symbol: 'BTC/USDT' } }, 'error');
    expect(e.data).toMatchObject({ code: 'UNKNOWN_COMMAND', error: expect.stringContaining('analyze') });
  });

  it('get_subscriptions lists topics and symbol:BASE/QUOTE with a count', async () => {
    const server = await startServer();
    const c = await connect(server);
    await c.request({ type: 'subscribe', data: { topics: ['proposals', 'all'], symbols: ['btc/usdt'] } }, 'subscribed');
    const r = await c.request({ type: 'get_subscriptions' }, 'system_status');
    expect(r.data).toEqual({ subscriptions: ['proposals', 'all', 'symbol:BTC/USDT'], count: 3 });
  });

  it('an invalid topic answers INVALID_TOPIC and changes nothing', async () => {
    const server = await startServer();
    const c = await connect(server);
    await c.request({ type: 'subscribe', data: { topics: ['alerts'] } }, 'subscribed');
    const e = await c.request({ type: 'subscribe', data: { topics: ['market', 'bogus'], symbols: ['ETH/USDT'] } }, 'error');
    expect(e.data).toMatchObject({ code: 'INVALID_TOPIC', error: expect.stringContaining('bogus') });
    const e2 = await c.request({ type: 'unsubscribe', data: { topics: ['alerts', 'nope'] } }, 'error');
    expect(e2.data.code).toBe('INVALID_TOPIC');
    const r = await c.request({ type: 'get_subscriptions' }, 'system_status');
    expect(r.data).toEqual({ subscriptions: ['alerts'], count: 1 });
  });

  it.each([['BTCUSDT'], ['BTC/'], ['/USDT'], ['BTC/USDT/X'], [''], [42]])('an invalid symbol %j answers INVALID_SYMBOL and changes nothing', async (sym) => {
    const server = await startServer();
    const c = await connect(server);
    const e = await c.request({ type: 'subscribe', data: { topics: ['market'], symbols: ['BTC/USDT', sym] } }, 'error');
    expect(e.data.code).toBe('INVALID_SYMBOL');
    const r = await c.request({ type: 'get_subscriptions' }, 'system_status');
    expect(r.data).toEqual({ subscriptions: [], count: 0 });
  });
});

describe('routing', () => {
  it('routes each event type to its topic only', async () => {
    const server = await startServer();
    const c = await connect(server);
    await c.request({ type: 'subscribe', data: { topics: ['executions'] } }, 'subscribed');
    await server.publish('proposal_created', SAMPLE.proposal());
    await server.publish('alert', SAMPLE.alert());
    await server.publish('trade_executed', SAMPLE.trade());
    const ev = await c.next('trade_executed');
    expect(ev).toMatchObject({ topic: 'executions', seq: 3, data: SAMPLE.trade() });
    expect(ev.connection_id).toBeUndefined();
    expect(c.events()).toHaveLength(1);
  });

  it('`all` receives every published event type', async () => {
    const server = await startServer();
    const c = await connect(server);
    await c.request({ type: 'subscribe', data: { topics: ['all'] } }, 'subscribed');
    await server.publish('proposal_created', SAMPLE.proposal());
    await server.publish('proposal_approved', { proposal_id: 'p1', approved_by: 'u' });
    await server.publish('trade_executed', SAMPLE.trade());
    await server.publish('analysis_update', SAMPLE.analysis());
    await server.publish('system_status', { running: true });
    await server.publish('status_change', { from: 'a', to: 'b' });
    await server.publish('market_update', SAMPLE.market());
    await server.publish('portfolio_update', SAMPLE.portfolio());
    await server.publish('health_update', SAMPLE.health());
    await server.publish('alert', SAMPLE.alert());
    await server.publish('warning', SAMPLE.alert());
    await c.waitFor((f) => f.seq === 11);
    expect(c.events().map((f) => [f.type, f.topic])).toEqual([
      ['proposal_created', 'proposals'],
      ['proposal_approved', 'proposals'],
      ['trade_executed', 'executions'],
      ['analysis_update', 'analysis'],
      ['system_status', 'status'],
      ['status_change', 'status'],
      ['market_update', 'market'],
      ['portfolio_update', 'portfolio'],
      ['health_update', 'health'],
      ['alert', 'alerts'],
      ['warning', 'alerts'],
    ]);
    expect(c.events().map((f) => f.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('a symbol subscription receives events whose data.symbol matches, whatever their topic', async () => {
    const server = await startServer();
    const c = await connect(server);
    await c.request({ type: 'subscribe', data: { symbols: ['eth/usdt'] } }, 'subscribed');
    await server.publish('trade_executed', SAMPLE.trade('BTC/USDT', 1));
    await server.publish('trade_executed', SAMPLE.trade('eth/usdt', 2));
    await server.publish('analysis_update', SAMPLE.analysis('ETH/USDT'));
    await server.publish('portfolio_update', SAMPLE.portfolio());
    await server.publish('alert', SAMPLE.alert('ETH/USDT'));
    await c.waitFor((f) => f.seq === 5);
    expect(c.events().map((f) => [f.type, f.seq])).toEqual([
      ['trade_executed', 2],
      ['analysis_update', 3],
      ['alert', 5],
    ]);
  });

  it('from a market_update a symbol subscription receives only its entries, with the same seq', async () => {
    const server = await startServer();
    const btc = await connect(server);
    const two = await connect(server);
    const market = await connect(server);
    await btc.request({ type: 'subscribe', data: { symbols: ['BTC/USDT'] } }, 'subscribed');
    await two.request({ type: 'subscribe', data: { symbols: ['SOL/USDT', 'BTC/USDT', 'XRP/USDT'] } }, 'subscribed');
    await market.request({ type: 'subscribe', data: { topics: ['market'], symbols: ['BTC/USDT'] } }, 'subscribed');
    const data = SAMPLE.market(['BTC/USDT', 'ETH/USDT', 'SOL/USDT']);
    await server.publish('market_update', data);
    const a = await btc.next('market_update');
    const b = await two.next('market_update');
    const m = await market.next('market_update');
    expect(a).toMatchObject({ seq: 1, topic: 'market', data: [data[0]] });
    expect(b).toMatchObject({ seq: 1, data: [data[0], data[2]] });
    expect(m).toMatchObject({ seq: 1, data });
    await server.publish('market_update', SAMPLE.market(['ETH/USDT']));
    await market.waitFor((f) => f.seq === 2);
    expect(btc.all('market_update')).toHaveLength(1);
    expect(two.all('market_update')).toHaveLength(1);
  });

  it('delivers an event exactly once however many subscriptions match', async () => {
    const server = await startServer();
    const c = await connect(server);
    await c.request({ type: 'subscribe', data: { topics: ['all', 'executions', 'market'], symbols: ['BTC/USDT', 'ETH/USDT'] } }, 'subscribed');
    const d = await connect(server);
    await d.request({ type: 'subscribe', data: { topics: ['executions'], symbols: ['BTC/USDT'] } }, 'subscribed');
    await server.publish('trade_executed', SAMPLE.trade('BTC/USDT'));
    await server.publish('market_update', SAMPLE.market(['BTC/USDT', 'ETH/USDT']));
    await server.publish('alert', SAMPLE.alert('BTC/USDT'));
    await c.waitFor((f) => f.seq === 3);
    await d.waitFor((f) => f.seq === 3);
    await c.request({ type: 'ping' }, 'pong');
    await d.request({ type: 'ping' }, 'pong');
    expect(c.events().map((f) => f.seq)).toEqual([1, 2, 3]);
    expect(c.events()[1]!.data).toHaveLength(2);
    expect(d.events().map((f) => f.seq)).toEqual([1, 2, 3]);
    expect(d.events()[1]!.data).toHaveLength(1);
  });

  it('publish() rejects an unknown type or invalid data with InvalidEventError', async () => {
    const server = await startServer();
    await expect(server.publish('nope' as 'alert', {})).rejects.toMatchObject({ name: 'InvalidEventError', code: 'INVALID_EVENT' });
    await expect(server.publish('trade_executed', { symbol: 'BTC/USDT' } as never)).rejects.toThrow(/proposal_id/);
    expect(server.stats().last_seq).toBe(0);
  });
});

describe('Part B 2: request_id', () => {
  it('echoes request_id on every reply, including errors', async () => {
    const server = await startServer();
    const c = await connect(server);
    const cases: [object, string][] = [
      [{ type: 'subscribe', data: { topics: ['market'] } }, 'subscribed'],
      [{ type: 'unsubscribe', data: { topics: ['market'] } }, 'unsubscribed'],
      [{ type: 'ping' }, 'pong'],
      [{ type: 'get_status' }, 'system_status'],
      [{ type: 'get_subscriptions' }, 'system_status'],
      [{ type: 'command', data: { command: 'get_status' } }, 'system_status'],
      [{ type: 'command', data: { command: 'get_portfolio' } }, 'portfolio_update'],
      [{ type: 'command', data: { command: 'get_health' } }, 'health_update'],
      [{ type: 'command', data: { command: 'nope' } }, 'error'],
      [{ type: 'subscribe', data: { topics: ['bogus'] } }, 'error'],
      [{ type: 'bogus' }, 'error'],
      [{ type: 'subscribe' }, 'error'],
    ];
    for (const [i, [msg, reply]] of cases.entries()) {
      const r = await c.request({ ...msg, request_id: `req-${i}` }, reply);
      expect(r.request_id, JSON.stringify(msg)).toBe(`req-${i}`);
    }
  });
});

describe('partAOnly', () => {
  it('speaks only Part A: no protocol/features/epoch, no request_id echo, no topic/seq', async () => {
    const server = await startServer({ partAOnly: true });
    const c = await open(server);
    const connected = await c.next('connected');
    expect(Object.keys(connected.data).sort()).toEqual(['available_topics', 'connection_id', 'instructions', 'message', 'server_version']);
    await c.next('system_status');
    const sub = await c.request({ type: 'subscribe', data: { topics: ['executions'] }, request_id: 'r1' }, 'subscribed');
    expect(sub.request_id).toBeUndefined();
    const pong = await c.request({ type: 'ping', request_id: 'r2' }, 'pong');
    expect(pong.request_id).toBeUndefined();
    await server.publish('trade_executed', SAMPLE.trade());
    const ev = await c.next('trade_executed');
    expect(Object.keys(ev).sort()).toEqual(['data', 'timestamp', 'type']);
    const resumed = await c.request({ type: 'subscribe', data: { topics: ['alerts'], since: { epoch: 'x', seq: 0 } } }, 'subscribed');
    expect(resumed.data.recovered).toBeUndefined();
  });
});
