/** Issue 9: options that refuse mistakes, status like the original, extra WS paths, request_id in code points. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, SigmaxServer, closestName, loadConfigFromEnv, unknownEnvVars } from '../../src/server/index.js';
import { SERVER_VERSION } from '../../src/server/version.js';
import { TestClient, connect, startServer } from './helpers.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('request_id is measured in code points', () => {
  const emoji65 = '😀'.repeat(65); // 65 code points, 130 UTF-16 units
  const emoji129 = '😀'.repeat(129);

  it('an id of 65 emoji is accepted and echoed on a valid request', async () => {
    const c = await connect(await startServer());
    const pong = await c.request({ type: 'ping', request_id: emoji65 }, 'pong');
    expect(pong.request_id).toBe(emoji65);
  });

  it('an id of 65 emoji is echoed on a decode error too', async () => {
    const c = await connect(await startServer());
    const e = await c.request({ type: 'no_such_type', request_id: emoji65 }, 'error');
    expect(e.data.code).toBe('INVALID_MESSAGE');
    expect(e.request_id).toBe(emoji65);
  });

  it('an id of 129 code points is refused and not echoed', async () => {
    const c = await connect(await startServer());
    const e = await c.request({ type: 'ping', request_id: emoji129 }, 'error');
    expect(e.data.code).toBe('INVALID_MESSAGE');
    expect(e.request_id).toBeUndefined();
  });
});

describe('system_status and version like the original', () => {
  it('system_status carries agents and trading objects, on connect and on get_status', async () => {
    const server = await startServer();
    const c = await TestClient.open(server.url);
    const connected = await c.next('connected');
    expect(connected.data.server_version).toBe(pkg.version);
    const first = await c.next('system_status');
    expect(first.data).toMatchObject({ agents: {}, trading: {} });
    const status = await c.request({ type: 'get_status' }, 'system_status');
    expect(status.data.agents).toEqual({});
    expect(status.data.trading).toEqual({});
    await c.close();
  });

  it('a published system_status with agents and trading is what clients get', async () => {
    const server = await startServer();
    await server.publish('system_status', { running: true, agents: { researcher: { status: 'idle' } }, trading: { open_orders: 2 } } as never);
    const c = await connect(server);
    const status = await c.request({ type: 'get_status' }, 'system_status');
    expect(status.data.agents).toEqual({ researcher: { status: 'idle' } });
    expect(status.data.trading).toEqual({ open_orders: 2 });
  });

  it('server_version is the package.json version', () => {
    expect(SERVER_VERSION).toBe(pkg.version);
  });
});

describe('additional WebSocket paths', () => {
  it('wsPaths serves the API on every listed path, and 404s others', async () => {
    const server = await startServer({ wsPaths: ['/api/ws', '/ws'] });
    const base = `ws://127.0.0.1:${server.port}`;
    const a = await connect(`${base}/ws`);
    const b = await connect(`${base}/api/ws`);
    expect((await a.request({ type: 'ping' }, 'pong')).type).toBe('pong');
    expect((await b.request({ type: 'ping' }, 'pong')).type).toBe('pong');
    await expect(TestClient.open(`${base}/other`)).rejects.toThrow(/404/);
    expect(server.stats().active_connections).toBe(2);
  });

  it('WS_PATHS sets them from the environment; a path must start with /', () => {
    expect(loadConfigFromEnv({ WS_PATHS: '/api/ws, /ws' }).wsPaths).toEqual(['/api/ws', '/ws']);
    expect(() => new SigmaxServer({ wsPaths: ['ws'] })).toThrow(ConfigError);
    expect(() => new SigmaxServer({ wsPaths: [] })).toThrow(/wsPaths/);
  });
});

describe('configuration that refuses mistakes', () => {
  it('an unknown option throws, naming it and the closest known one', () => {
    expect(() => new SigmaxServer({ prot: 8000 } as never)).toThrow(ConfigError);
    expect(() => new SigmaxServer({ prot: 8000 } as never)).toThrow(/Unknown option `prot`.*did you mean `port`/);
  });

  it('unknownEnvVars names unknown WS_* variables and the closest known one', () => {
    expect(unknownEnvVars({ WS_API_KEY: 'x', WS_DEMO: '0', PATH: '/bin', HOME: '/root' })).toEqual([{ name: 'WS_API_KEY', suggestion: 'WS_API_KEYS' }]);
    expect(unknownEnvVars({ WS_API_KEYS: 'x', WS_PATHS: '/ws', WS_LOG_FORMAT: 'json' })).toEqual([]);
    expect(closestName('WS_MAX_CONECTIONS', ['WS_MAX_CONNECTIONS', 'WS_DEMO'])).toBe('WS_MAX_CONNECTIONS');
    expect(closestName('WS_TOTALLY_DIFFERENT_THING', ['WS_DEMO'])).toBeUndefined();
  });
});
