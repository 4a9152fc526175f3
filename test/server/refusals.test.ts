/** Issue 9: every refused request is answered; a flood is closed with 1008; silent browsers stay connected. */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SigmaxWebSocketClient, ServerError } from '../../src/index.js';
import { connect, open, startServer, waitUntil } from './helpers.js';

describe('rate limit: every refused message is answered', () => {
  it('a 200-message burst gets 200 answers; RATE_LIMITED ones echo their request_id and carry retry_after_ms', async () => {
    const server = await startServer({ rateLimit: 20, rateLimitBurst: 40 });
    const c = await connect(server);
    for (let i = 0; i < 200; i++) c.send({ type: 'ping', request_id: `r${i}` });
    await waitUntil(() => c.frames.filter((f) => f.request_id !== undefined).length >= 200, 5000, '200 answers');
    const answers = c.frames.filter((f) => f.request_id !== undefined);
    expect(new Set(answers.map((f) => f.request_id))).toEqual(new Set(Array.from({ length: 200 }, (_, i) => `r${i}`)));
    const limited = answers.filter((f) => f.type === 'error');
    expect(limited.length).toBeGreaterThanOrEqual(150);
    for (const e of limited) {
      expect(e.data.code).toBe('RATE_LIMITED');
      expect(e.data.details.retry_after_ms).toBeGreaterThan(0);
      expect(e.data.details.retry_after_ms).toBeLessThanOrEqual(1000);
    }
    expect(answers.filter((f) => f.type === 'pong').length + limited.length).toBe(200);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('a refused message that is not even valid JSON is answered too (without request_id)', async () => {
    const server = await startServer({ rateLimit: 1, rateLimitBurst: 1 });
    const c = await connect(server);
    c.send({ type: 'ping', request_id: 'ok' });
    c.send('{nope');
    const e = await c.next('error');
    expect(e.data.code).toBe('RATE_LIMITED');
    expect(e.request_id).toBeUndefined();
  });

  it('a connection flooding far past the limit (more than 10 × burst refused within a second) is closed with 1008', async () => {
    const server = await startServer({ rateLimit: 5, rateLimitBurst: 10 });
    const c = await connect(server);
    for (let i = 0; i < 400; i++) c.send({ type: 'ping', request_id: `f${i}` });
    const closed = await c.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/rate/i);
    const errors = c.all('error');
    // Answered up to the threshold (100 refused), not beyond; then the reason of the close.
    expect(errors.filter((e) => e.data.code === 'RATE_LIMITED' && e.request_id !== undefined).length).toBe(100);
    expect(c.frames.at(-1)).toMatchObject({ type: 'error', data: { code: 'RATE_LIMITED' } });
    expect(c.frames.at(-1)!.request_id).toBeUndefined();
    await waitUntil(() => server.stats().active_connections === 0);
  });

  it('SDK: 200 ping() calls in a burst all settle; the refused ones reject with ServerError RATE_LIMITED in < 100 ms', async () => {
    const server = await startServer({ rateLimit: 20, rateLimitBurst: 40 });
    const client = new SigmaxWebSocketClient({ url: server.url, commandTimeout: 10_000, pingInterval: 0 });
    try {
      await client.connect();
      const results = await Promise.all(
        Array.from({ length: 200 }, async () => {
          const t0 = performance.now();
          try {
            await client.ping();
            return { ok: true, ms: performance.now() - t0 };
          } catch (err) {
            return { ok: false, ms: performance.now() - t0, err };
          }
        }),
      );
      const refused = results.filter((r) => !r.ok);
      expect(results.filter((r) => r.ok).length).toBeGreaterThanOrEqual(40);
      expect(refused.length).toBeGreaterThanOrEqual(150);
      for (const r of refused) {
        expect(r.err).toBeInstanceOf(ServerError);
        expect((r.err as ServerError).code).toBe('RATE_LIMITED');
        expect(r.ms).toBeLessThan(100);
      }
      expect(client.isConnected()).toBe(true);
    } finally {
      await client.disconnect();
    }
  });
});

describe('liveness for browsers', () => {
  it('a raw client that never answers the JSON ping (protocol pongs only) stays connected past 3 × connectionTimeout', async () => {
    const server = await startServer({ heartbeatInterval: 100, connectionTimeout: 300 });
    const c = await open(server); // ws answers protocol pings by itself (autoPong)
    let protocolPings = 0;
    c.ws.on('ping', () => protocolPings++);
    await new Promise((r) => setTimeout(r, 1000));
    expect(c.closeInfo).toBeUndefined();
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    expect(c.all('ping').length).toBeGreaterThanOrEqual(3); // the JSON pings went unanswered
    expect(protocolPings).toBeGreaterThanOrEqual(3);
    expect(server.stats().active_connections).toBe(1);
  });

  it('a silent client is pinged in time when connectionTimeout < 2 × heartbeatInterval (no timeout before its first ping)', async () => {
    const server = await startServer({ heartbeatInterval: 200, connectionTimeout: 300 });
    const c = await open(server); // answers protocol pings only
    await new Promise((r) => setTimeout(r, 1200));
    expect(c.closeInfo).toBeUndefined();
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('a raw client that answers neither is still terminated', async () => {
    const server = await startServer({ heartbeatInterval: 100, connectionTimeout: 300 });
    const c = await open(server, { autoPong: false });
    const closed = await Promise.race([c.closed, new Promise((r) => setTimeout(() => r('timeout'), 3000))]);
    expect(closed).not.toBe('timeout');
    await waitUntil(() => server.stats().active_connections === 0);
  });
});
