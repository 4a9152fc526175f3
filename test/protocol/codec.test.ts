import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  EVENT_TOPIC,
  TOPICS,
  buildEvent,
  isRetryableClose,
  normalizeSubscription,
  normalizeSymbol,
  normalizeTopic,
  parseClientFrame,
  parseServerFrame,
  serialize,
} from '../../src/protocol/index.js';

describe('normalisation', () => {
  it('lower-cases topics and refuses unknown ones', () => {
    expect(normalizeTopic(' MARKET ')).toBe('market');
    expect(normalizeTopic('All')).toBe('all');
    expect(normalizeTopic('bogus')).toBeUndefined();
    expect(normalizeTopic(42)).toBeUndefined();
  });

  it('upper-cases symbols of the form BASE/QUOTE and refuses the rest', () => {
    expect(normalizeSymbol('btc/usdt')).toBe('BTC/USDT');
    for (const bad of ['BTCUSDT', 'BTC/', '/USDT', 'BTC/USDT/X', 'BT C/USDT', '', null, 7]) {
      expect(normalizeSymbol(bad), String(bad)).toBeUndefined();
    }
  });

  it('de-duplicates in first-seen order and names the first invalid entry', () => {
    expect(normalizeSubscription(['Market', 'market', 'ALL'], ['eth/usdt', 'ETH/USDT'])).toEqual({
      ok: true,
      topics: ['market', 'all'],
      symbols: ['ETH/USDT'],
    });
    expect(normalizeSubscription(['market', 'nope'])).toMatchObject({ ok: false, code: 'INVALID_TOPIC', invalid: 'nope' });
    expect(normalizeSubscription([], ['BTCUSDT'])).toMatchObject({ ok: false, code: 'INVALID_SYMBOL', invalid: 'BTCUSDT' });
  });

  it('routes every published event type to a valid topic', () => {
    for (const topic of Object.values(EVENT_TOPIC)) expect(TOPICS).toContain(topic);
  });
});

describe('server frames', () => {
  it('validates the data of known events and keeps extra fields', () => {
    const frame = serialize(
      buildEvent('trade_executed', {
        proposal_id: 'p1', symbol: 'BTC/USDT', action: 'buy', size: 1, filled_price: 2, order_id: 'o1', status: 'filled', venue: 'x',
      }, { topic: 'executions', seq: 3 }),
    );
    const r = parseServerFrame(frame);
    expect(r.ok && r.known && r.event.type === 'trade_executed' && r.event.data).toMatchObject({ venue: 'x', filled_price: 2 });
    expect(r.ok && r.event.seq).toBe(3);
  });

  it('refuses a known event whose data has the wrong shape, naming the field', () => {
    const r = parseServerFrame(JSON.stringify({ type: 'trade_executed', data: { proposal_id: 'p', symbol: 'B/C', action: 'buy', size: 'big' } }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issue.message).toMatch(/size/);
  });

  it('passes an unknown event type on as an untyped envelope', () => {
    const r = parseServerFrame('{"type":"future_event","data":{"x":1}}');
    expect(r).toMatchObject({ ok: true, known: false, event: { type: 'future_event' } });
  });

  it.each([
    ['not JSON', '{nope'],
    ['an array', '[1,2]'],
    ['null', 'null'],
    ['no type', '{"data":{}}'],
    ['binary', new Uint8Array([1, 2])],
    ['a negative seq', '{"type":"alert","data":{},"seq":-1}'],
  ])('refuses %s without throwing', (_name, raw) => {
    const r = parseServerFrame(raw);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issue.code).toBe('INVALID_MESSAGE');
  });
});

describe('client frames', () => {
  it('accepts subscribe with since, and echoes a readable request_id on refusal', () => {
    expect(parseClientFrame('{"type":"subscribe","data":{"topics":["market"],"since":{"epoch":"e","seq":4}},"request_id":"r1"}').ok).toBe(true);
    expect(parseClientFrame('{"type":"nope","request_id":"r2"}')).toMatchObject({ ok: false, request_id: 'r2' });
    expect(parseClientFrame('{"type":"command","data":{}}')).toMatchObject({ ok: false, issue: { code: 'INVALID_MESSAGE' } });
  });
});

describe('close codes', () => {
  it('treats only policy violations as fatal', () => {
    expect(isRetryableClose(CloseCode.POLICY_VIOLATION)).toBe(false);
    for (const code of [1000, 1001, 1006, 1009, 1011, 1013, 4000]) expect(isRetryableClose(code)).toBe(true);
  });
});
