import { describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { MemoryEventLog, type EventLog } from '../../src/server/index.js';
import { SAMPLE, TestClient, connect, httpUrl, startServer, waitUntil } from './helpers.js';

describe('GET /api/ws/stats', () => {
  it('has the PROTOCOL.md fields and counts connections, disconnections, messages and subscriptions', async () => {
    const server = await startServer({ maxConnections: 10 });
    const empty = await (await fetch(httpUrl(server, '/api/ws/stats'))).json();
    expect(empty).toMatchObject({
      active_connections: 0,
      total_connections_lifetime: 0,
      total_disconnections_lifetime: 0,
      total_messages_sent: 0,
      subscriptions_count: 0,
      topics: [],
      redis_enabled: false,
      max_connections: 10,
    });
    const a = await connect(server); // connected + system_status = 2 messages
    const b = await connect(server);
    await a.request({ type: 'subscribe', data: { topics: ['market', 'alerts'], symbols: ['BTC/USDT'] } }, 'subscribed');
    await b.request({ type: 'subscribe', data: { topics: ['market'] } }, 'subscribed');
    await server.publish('market_update', SAMPLE.market());
    await a.next('market_update');
    await b.next('market_update');
    await b.close();
    await waitUntil(() => server.stats().active_connections === 1);
    const res = await fetch(httpUrl(server, '/api/ws/stats'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const stats = await res.json();
    expect(stats).toMatchObject({
      active_connections: 1,
      total_connections_lifetime: 2,
      total_disconnections_lifetime: 1,
      total_messages_sent: 8, // 2 × (connected, system_status, subscribed, market_update)
      subscriptions_count: 3,
      redis_enabled: false,
      max_connections: 10,
    });
    expect([...stats.topics].sort()).toEqual(['alerts', 'market']);
  });
});

describe('GET /health', () => {
  it('answers 200 with status and the event log state', async () => {
    const server = await startServer();
    const res = await fetch(httpUrl(server, '/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      connections: 0,
      log: { backend: 'memory', connected: true, epoch: server.epoch, last_seq: 0 },
      redis: { enabled: false, connected: false },
    });
  });
});

describe('GET /health with a disconnected event log', () => {
  it('still answers 200, with status degraded', async () => {
    const inner = new MemoryEventLog();
    let connected = true;
    const log: EventLog = {
      epoch: inner.epoch,
      start: (onEvent) => inner.start(onEvent),
      append: (e) => inner.append(e),
      readAfter: (e, a, l) => inner.readAfter(e, a, l),
      status: () => ({ ...inner.status(), backend: 'redis', connected }),
      close: () => inner.close(),
    };
    const server = await startServer({ eventLog: log });
    expect(server.stats().redis_enabled).toBe(true);
    connected = false;
    const res = await fetch(httpUrl(server, '/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'degraded', log: { backend: 'redis', connected: false } });
    expect(server.stats().redis_enabled).toBe(false);
  });
});

describe('CORS', () => {
  it('allows any origin when corsOrigins is unset', async () => {
    const server = await startServer();
    const res = await fetch(httpUrl(server, '/api/ws/stats'), { headers: { Origin: 'http://x.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('echoes an allowed origin, omits the header for others, and answers preflight', async () => {
    const server = await startServer({ corsOrigins: ['http://good.example'] });
    const good = await fetch(httpUrl(server, '/health'), { headers: { Origin: 'http://good.example' } });
    expect(good.headers.get('access-control-allow-origin')).toBe('http://good.example');
    expect(good.headers.get('vary')).toBe('Origin');
    const bad = await fetch(httpUrl(server, '/health'), { headers: { Origin: 'http://evil.example' } });
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(httpUrl(server, '/api/events'), {
      method: 'OPTIONS',
      headers: { Origin: 'http://good.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
  });
});

describe('other paths', () => {
  it('answers 404 JSON for unknown paths, 405 for wrong methods, 426 for GET /api/ws', async () => {
    const server = await startServer();
    const nf = await fetch(httpUrl(server, '/nope'));
    expect(nf.status).toBe(404);
    expect((await nf.json()).code).toBe('NOT_FOUND');
    expect((await fetch(httpUrl(server, '/api/ws/stats'), { method: 'POST' })).status).toBe(405);
    expect((await fetch(httpUrl(server, '/api/ws'))).status).toBe(426);
  });

  it('refuses a WebSocket upgrade on another path with 404', async () => {
    const server = await startServer();
    await expect(TestClient.open(`ws://127.0.0.1:${server.port}/other`)).rejects.toThrow(/404/);
  });
});

describe('POST /api/events', () => {
  const token = 'secret-token';
  const post = (server: { port: number }, body: unknown, auth: string | null = `Bearer ${token}`) =>
    fetch(`http://127.0.0.1:${server.port}/api/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('is 404 when no publishToken is set', async () => {
    const server = await startServer();
    expect((await post(server, { type: 'alert', data: {} })).status).toBe(404);
  });

  it('publishes one event or an array (202 with the count) to subscribers', async () => {
    const server = await startServer({ publishToken: token });
    const c = await connect(server);
    await c.request({ type: 'subscribe', data: { topics: ['all'] } }, 'subscribed');
    const one = await post(server, { type: 'trade_executed', data: SAMPLE.trade() });
    expect(one.status).toBe(202);
    expect(await one.json()).toEqual({ accepted: 1, duplicates: 0, seqs: [1] });
    const many = await post(server, [
      { type: 'alert', data: SAMPLE.alert() },
      { type: 'market_update', data: SAMPLE.market() },
    ]);
    expect(await many.json()).toEqual({ accepted: 2, duplicates: 0, seqs: [2, 3] });
    await c.waitFor((f) => f.seq === 3);
    expect(c.events().map((f) => [f.type, f.seq])).toEqual([
      ['trade_executed', 1],
      ['alert', 2],
      ['market_update', 3],
    ]);
  });

  it('requires the bearer token (401)', async () => {
    const server = await startServer({ publishToken: token });
    for (const auth of [null, 'Bearer wrong', `Basic ${token}`, 'Bearer ']) {
      const res = await post(server, { type: 'alert', data: {} }, auth);
      expect(res.status, String(auth)).toBe(401);
      expect((await res.json()).code).toBe('AUTHENTICATION_FAILED');
    }
    expect(server.stats().last_seq).toBe(0);
  });

  it('validates every event before publishing any (400)', async () => {
    const server = await startServer({ publishToken: token });
    const deep = `{"type":"alert","data":{"message":"x","deep":${'['.repeat(20000)}${']'.repeat(20000)}}}`; // parses, cannot be re-serialised
    const cases = ['{bad json', [], { type: 'nope', data: {} }, [{ type: 'alert', data: {} }, { type: 'trade_executed', data: { symbol: 'X' } }], [1], { data: {} }, deep];
    for (const body of cases) {
      const res = await post(server, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await res.json()).error).toEqual(expect.any(String));
    }
    expect(server.stats().last_seq).toBe(0);
  });

  it('refuses a body over maxBodySize with 413', async () => {
    const server = await startServer({ publishToken: token, maxBodySize: 1000 });
    const res = await post(server, { type: 'alert', data: { message: 'x'.repeat(2000) } });
    expect(res.status).toBe(413);
    // Also when the size is not announced up front (chunked).
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/api/events', method: 'POST', headers: { Authorization: `Bearer ${token}` } }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('x'.repeat(800));
      req.end('y'.repeat(800));
    });
    expect(status).toBe(413);
    expect(server.stats().last_seq).toBe(0);
  });
});
