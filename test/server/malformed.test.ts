import { describe, expect, it } from 'vitest';
import { connect, startServer } from './helpers.js';

describe('malformed input: an error with a code, and the connection stays', () => {
  const cases: [string, string | Buffer, string][] = [
    ['not JSON', '{not json', 'INVALID_MESSAGE'],
    ['empty frame', '', 'INVALID_MESSAGE'],
    ['a JSON array', '[1,2,3]', 'INVALID_MESSAGE'],
    ['a JSON string', '"subscribe"', 'INVALID_MESSAGE'],
    ['JSON null', 'null', 'INVALID_MESSAGE'],
    ['a number', '42', 'INVALID_MESSAGE'],
    ['an unknown type', '{"type":"foo","data":{}}', 'INVALID_MESSAGE'],
    ['a missing type', '{"data":{}}', 'INVALID_MESSAGE'],
    ['a non-string type', '{"type":7}', 'INVALID_MESSAGE'],
    ['subscribe without data', '{"type":"subscribe"}', 'INVALID_MESSAGE'],
    ['subscribe with topics not a list', '{"type":"subscribe","data":{"topics":"market"}}', 'INVALID_MESSAGE'],
    ['subscribe with data a list', '{"type":"subscribe","data":[]}', 'INVALID_MESSAGE'],
    ['subscribe with a bad since', '{"type":"subscribe","data":{"since":{"epoch":1,"seq":-1}}}', 'INVALID_MESSAGE'],
    ['command without data', '{"type":"command"}', 'INVALID_MESSAGE'],
    ['command with a non-string name', '{"type":"command","data":{"command":5}}', 'INVALID_MESSAGE'],
    ['a topic that is an object', '{"type":"subscribe","data":{"topics":[{"a":1}]}}', 'INVALID_TOPIC'],
    ['huge topic arrays', JSON.stringify({ type: 'subscribe', data: { topics: Array(5000).fill('market') } }), 'TOO_MANY_SUBSCRIPTIONS'],
    ['huge unsubscribe arrays', JSON.stringify({ type: 'unsubscribe', data: { symbols: Array(5000).fill('BTC/USDT') } }), 'INVALID_MESSAGE'],
    ['a binary frame', Buffer.from('{"type":"ping"}'), 'INVALID_MESSAGE'],
    ['deeply nested JSON', '['.repeat(3000) + ']'.repeat(3000), 'INVALID_MESSAGE'],
    ['a deeply nested topic', `{"type":"subscribe","data":{"topics":[${'['.repeat(20000)}${']'.repeat(20000)}]}}`, 'INVALID_TOPIC'],
    ['a deeply nested type', `{"type":${'['.repeat(20000)}${']'.repeat(20000)}}`, 'INVALID_MESSAGE'],
    ['a deeply nested since', `{"type":"subscribe","data":{"since":${'['.repeat(20000)}${']'.repeat(20000)}}}`, 'INVALID_MESSAGE'],
    ['a deeply nested command name', `{"type":"command","data":{"command":${'['.repeat(20000)}${']'.repeat(20000)}}}`, 'INVALID_MESSAGE'],
    ['deeply nested data', `{"type":"subscribe","data":${'['.repeat(20000)}${']'.repeat(20000)}}`, 'INVALID_MESSAGE'],
    ['a huge topic string', JSON.stringify({ type: 'subscribe', data: { topics: ['x'.repeat(50_000)] } }), 'INVALID_TOPIC'],
  ];

  it.each(cases)('%s', async (_name, frame, code) => {
    const server = await startServer({ rateLimit: 0 });
    const c = await connect(server);
    c.ws.send(frame, { binary: Buffer.isBuffer(frame) });
    const e = await c.next('error');
    expect(e.data).toMatchObject({ code, error: expect.any(String) });
    expect(e.data.error.length).toBeLessThan(1000);
    const pong = await c.request({ type: 'ping', request_id: 'still-here' }, 'pong');
    expect(pong.request_id).toBe('still-here');
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('echoes request_id on a refused message when it can be read', async () => {
    const server = await startServer();
    const c = await connect(server);
    c.send({ type: 'subscribe', data: { topics: 5 }, request_id: 'bad-1' });
    const e = await c.next('error');
    expect(e).toMatchObject({ request_id: 'bad-1', data: { code: 'INVALID_MESSAGE' } });
  });

  it('survives a burst of garbage from many clients', async () => {
    const server = await startServer({ rateLimit: 0 });
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(server)));
    for (const c of clients) for (let i = 0; i < 50; i++) c.ws.send(i % 2 ? Buffer.from([0xff, i]) : `{"type":${i}`, { binary: i % 2 === 1 });
    for (const c of clients) {
      await c.request({ type: 'ping' }, 'pong', 5000);
      expect(c.all('error')).toHaveLength(50);
    }
  });
});
