import { describe, expect, it } from 'vitest';
import { ConfigError, SigmaxServer, loadConfigFromEnv } from '../../src/server/index.js';
import { SAMPLE, TestClient, connect, httpUrl, startServer } from './helpers.js';

describe('graceful shutdown', () => {
  it('closes every client with 1001, then stops listening; close() is idempotent', async () => {
    const server = await startServer({ heartbeatInterval: 50 });
    const clients = await Promise.all([connect(server), connect(server), connect(server)]);
    const p1 = server.close();
    const p2 = server.close();
    expect(p2).toBe(p1);
    const codes = await Promise.all(clients.map((c) => c.closed));
    expect(codes.map((c) => c.code)).toEqual([1001, 1001, 1001]);
    await p1;
    await expect(fetch(httpUrl(server, '/health'))).rejects.toThrow();
    await expect(TestClient.open(server.url)).rejects.toThrow();
    await expect(server.publish('alert', SAMPLE.alert())).rejects.toMatchObject({ code: 'SERVER_CLOSED' });
    await expect(server.listen()).rejects.toMatchObject({ code: 'SERVER_CLOSED' });
  });

  it('terminates a client that does not answer the close within shutdownTimeout', async () => {
    const server = await startServer({ shutdownTimeout: 100 });
    const c = await connect(server);
    (c.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    await server.close();
    expect(server.stats().active_connections).toBe(0);
  });

  it('can be closed before listen() and while starting', async () => {
    await new SigmaxServer({ port: 0 }).close();
    const s = new SigmaxServer({ port: 0 });
    const listening = s.listen();
    await s.close();
    await listening;
    await expect(fetch(`http://127.0.0.1:${s.port}/health`)).rejects.toThrow();
  });

  it('a new server can listen on the port of a closed one', async () => {
    const a = await startServer();
    const port = a.port;
    await a.close();
    const b = await startServer({ port });
    expect(b.port).toBe(port);
    await connect(b);
  });

  it('rejects listen() on a port in use and cleans up', async () => {
    const a = await startServer();
    const b = new SigmaxServer({ port: a.port });
    await expect(b.listen()).rejects.toThrow(/EADDRINUSE/);
    await b.close();
  });
});

describe('robustness', () => {
  it('a status that cannot be serialised is refused at publish (InvalidEventError), connections unaffected', async () => {
    const server = await startServer();
    // passes the loose schema; JSON.stringify throws
    await expect(server.publish('system_status', { running: true, big: 1n } as never)).rejects.toMatchObject({ code: 'INVALID_EVENT' });
    const c = await TestClient.open(server.url);
    expect(await Promise.race([c.closed, new Promise((r) => setTimeout(() => r('open'), 100))])).toBe('open');
    expect((await fetch(httpUrl(server, '/health'))).status).toBe(200);
  });
});

describe('options', () => {
  it('throws ConfigError quoting a bad value', () => {
    expect(() => new SigmaxServer({ heartbeatInterval: -1 })).toThrow(ConfigError);
    expect(() => new SigmaxServer({ port: 70000 })).toThrow(/port/);
    expect(() => new SigmaxServer({ maxConnections: 1.5 })).toThrow(/maxConnections.*1\.5/);
    expect(() => new SigmaxServer({ apiKeys: [''] })).toThrow(/apiKeys/);
    expect(() => new SigmaxServer({ rateLimit: Number.NaN })).toThrow(/rateLimit.*got NaN/);
    expect(() => new SigmaxServer({ redisUrl: 'localhost:6379' })).toThrow(/redisUrl.*localhost:6379/);
    expect(() => new SigmaxServer({ redisUrl: 'rediss://user:pw@host:6380/1' })).not.toThrow();
  });

  it('url reflects the bound port', async () => {
    const s = await startServer();
    expect(s.url).toBe(`ws://127.0.0.1:${s.port}/api/ws`);
    expect(s.port).toBeGreaterThan(0);
  });
});

describe('loadConfigFromEnv', () => {
  it('reads every variable, durations in seconds with fractions', () => {
    const opts = loadConfigFromEnv({
      PORT: '9000',
      HOST: '0.0.0.0',
      REDIS_URL: 'redis://127.0.0.1:6379',
      WS_MAX_CONNECTIONS: '50',
      WS_HEARTBEAT_INTERVAL: '0.5',
      WS_CONNECTION_TIMEOUT: '1.25',
      CORS_ORIGINS: 'http://a.example, http://b.example',
      WS_API_KEYS: 'k1,k2',
      WS_PUBLISH_TOKEN: 'tok',
      WS_DEMO: '0',
      WS_HISTORY_SIZE: '500',
      WS_HISTORY_TTL: '60',
      WS_MAX_MESSAGE_SIZE: '4096',
      WS_RATE_LIMIT: '10,30',
      WS_MAX_SUBSCRIPTIONS: '20',
      WS_MAX_BUFFERED_BYTES: '65536',
    });
    expect(opts).toEqual({
      port: 9000,
      host: '0.0.0.0',
      redisUrl: 'redis://127.0.0.1:6379',
      maxConnections: 50,
      heartbeatInterval: 500,
      connectionTimeout: 1250,
      corsOrigins: ['http://a.example', 'http://b.example'],
      apiKeys: ['k1', 'k2'],
      publishToken: 'tok',
      demo: false,
      historySize: 500,
      historyTtl: 60_000,
      maxMessageSize: 4096,
      rateLimit: 10,
      rateLimitBurst: 30,
      maxSubscriptions: 20,
      maxBufferedBytes: 65536,
    });
  });

  it('leaves unset and empty variables out', () => {
    expect(loadConfigFromEnv({ PORT: '', WS_RATE_LIMIT: '5' })).toEqual({ rateLimit: 5 });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '-1'],
    ['WS_HEARTBEAT_INTERVAL', '30s'],
    ['WS_MAX_CONNECTIONS', '1.5'],
    ['WS_DEMO', 'maybe'],
    ['WS_RATE_LIMIT', 'fast'],
    ['WS_HISTORY_TTL', '-3'],
    ['PORT', '70000'],
    ['REDIS_URL', 'localhost:6379'],
  ])('throws ConfigError naming %s=%s', (name, value) => {
    expect(() => loadConfigFromEnv({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfigFromEnv({ [name]: value })).toThrow(new RegExp(`${name}.*${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});
