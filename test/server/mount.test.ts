/** Issue 9: mounting on an existing http.Server, and the authenticate hook. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { SigmaxWebSocketClient, AuthenticationError } from '../../src/index.js';
import { SigmaxServer } from '../../src/server/index.js';
import { TestClient, connect, startServer, waitUntil } from './helpers.js';

const apps = new Set<Server>();
const sigmaxes = new Set<SigmaxServer>();
afterEach(async () => {
  await Promise.all([...sigmaxes].map((s) => s.close()));
  sigmaxes.clear();
  for (const a of apps) a.closeAllConnections();
  await Promise.all([...apps].map((a) => new Promise((r) => a.close(r))));
  apps.clear();
});

async function appServer(): Promise<Server> {
  const app = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`app:${req.url}`);
  });
  apps.add(app);
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  return app;
}

const base = (app: Server) => `127.0.0.1:${(app.address() as { port: number }).port}`;

describe('mounting on an existing http.Server', () => {
  it('attach(): takes upgrades on its paths, adds its routes, leaves the app its requests', async () => {
    const app = await appServer();
    const sigmax = new SigmaxServer({ wsPaths: ['/api/ws', '/ws'] });
    sigmaxes.add(sigmax);
    await sigmax.attach(app);
    expect(sigmax.url).toBe(`ws://${base(app)}/api/ws`);
    expect(sigmax.port).toBe((app.address() as { port: number }).port);
    const c = await connect(`ws://${base(app)}/ws`);
    await c.request({ type: 'subscribe', data: { topics: ['alerts'] } }, 'subscribed');
    await sigmax.publish('alert', { message: 'hello', level: 'info' });
    expect((await c.next('alert')).data.message).toBe('hello');
    // The app keeps its requests; ours are answered.
    expect(await (await fetch(`http://${base(app)}/anything`)).text()).toBe('app:/anything');
    const stats = await (await fetch(`http://${base(app)}/api/ws/stats`)).json();
    expect(stats.active_connections).toBe(1);
    // close() leaves the app running and gives it its listener back.
    await sigmax.close();
    expect(await (await fetch(`http://${base(app)}/api/ws/stats`)).text()).toBe('app:/api/ws/stats');
    expect(app.listening).toBe(true);
  });

  it('new SigmaxServer({ server, httpRoutes: false }): no HTTP route added', async () => {
    const app = await appServer();
    const sigmax = new SigmaxServer({ server: app, httpRoutes: false });
    sigmaxes.add(sigmax);
    await sigmax.listen();
    expect(await (await fetch(`http://${base(app)}/health`)).text()).toBe('app:/health');
    const c = await connect(sigmax.url);
    expect((await c.request({ type: 'ping' }, 'pong')).type).toBe('pong');
  });

  it("leaves the app's own upgrades alone, and refuses unknown ones when nobody else takes them", async () => {
    const app = await appServer();
    const sigmax = new SigmaxServer({ server: app });
    sigmaxes.add(sigmax);
    await sigmax.listen();
    await expect(TestClient.open(`ws://${base(app)}/other`)).rejects.toThrow(/404/);
    // The app adds its own WebSocket on /chat.
    const own = new WebSocketServer({ noServer: true });
    app.on('upgrade', (req: IncomingMessage, socket, head) => {
      if (req.url === '/chat') own.handleUpgrade(req, socket, head, (ws) => ws.send('chat-hello'));
    });
    const chat = new WebSocket(`ws://${base(app)}/chat`);
    expect(String(await new Promise((r) => chat.once('message', r)))).toBe('chat-hello');
    chat.close();
    const c = await connect(sigmax.url);
    expect((await c.request({ type: 'ping' }, 'pong')).type).toBe('pong');
    own.close();
  });
});

describe('authenticate hook', () => {
  it('may be async and return a principal, exposed by connections()', async () => {
    const server = await startServer({
      authenticate: async (req) => {
        await new Promise((r) => setTimeout(r, 20));
        const token = req.headers.authorization;
        return token === 'Bearer good' ? { user: 'alice' } : null;
      },
    });
    const c = await connect(server, { headers: { Authorization: 'Bearer good' } });
    expect((await c.request({ type: 'ping' }, 'pong')).type).toBe('pong');
    expect(server.connections()).toEqual([expect.objectContaining({ principal: { user: 'alice' }, remoteAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/) })]);
  });

  it.each([
    ['returns null', async () => null],
    ['throws', () => {
      throw new Error('bad token');
    }],
    ['rejects', () => Promise.reject(new Error('bad token'))],
  ])('refuses with AUTHENTICATION_FAILED and 1008 when it %s', async (_what, hook) => {
    const server = await startServer({ authenticate: hook });
    const c = await TestClient.open(server.url);
    const e = await c.next('error');
    expect(e.data.code).toBe('AUTHENTICATION_FAILED');
    expect((await c.closed).code).toBe(1008);
    await waitUntil(() => server.stats().rejected_connections_lifetime === 1);
  });

  it('runs after the static api keys: both must pass; the SDK client sees an AuthenticationError', async () => {
    const seen: string[] = [];
    const server = await startServer({
      apiKeys: ['k1'],
      authenticate: (req) => {
        seen.push(req.url ?? '');
        return req.headers['x-user'] === 'bob' || 'anonymous';
      },
    });
    const client = new SigmaxWebSocketClient({ url: `${server.url}`, apiKey: 'wrong', autoReconnect: false });
    await expect(client.connect()).rejects.toBeInstanceOf(AuthenticationError);
    await client.disconnect();
    expect(seen).toEqual([]); // refused by the key; the hook never ran
    const ok = await connect(server, {}, '?api_key=k1');
    expect((await ok.request({ type: 'ping' }, 'pong')).type).toBe('pong');
    expect(server.connections()[0]!.principal).toBe('anonymous');
  });
});
