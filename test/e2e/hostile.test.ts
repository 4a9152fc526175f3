/**
 * The client against a hostile server (a raw `ws` server on port 0 that says whatever the test wants): garbage,
 * wrong data types, a 50 MB frame, silence, half-open sockets, every close code, replies with other requests' ids
 * and types. The client reports, stays up (or reconnects), and never resolves a call with the wrong data.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { SigmaxWebSocketClient, type ClientOptions, type CloseInfo, type SigmaxError } from '../../src/index.js';
import { startProxy, useHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

useHarness();

interface Frame {
  type: string;
  request_id?: string;
  data?: Record<string, unknown>;
}
type Behaviour = (ws: WebSocket, frame: Frame, n: number) => void;

const servers: WebSocketServer[] = [];
const clients: SigmaxWebSocketClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => (s.clients.forEach((c) => c.terminate()), s.close(r)))));
});

const send = (ws: WebSocket, type: string, data: unknown, extra: Record<string, unknown> = {}) => ws.send(JSON.stringify({ type, data, timestamp: 't', ...extra }));
/** A sane answer to every request (Part B, request_id echoed). */
const sane: Behaviour = (ws, f) => {
  const id = { request_id: f.request_id };
  if (f.type === 'ping') send(ws, 'pong', { message: 'pong' }, id);
  if (f.type === 'subscribe') send(ws, 'subscribed', { topics: f.data?.topics ?? [], symbols: f.data?.symbols ?? [] }, id);
  if (f.type === 'command' && f.data?.command === 'get_status') send(ws, 'system_status', { running: true }, id);
  if (f.type === 'command' && f.data?.command === 'get_health') send(ws, 'health_update', { cpu_percent: 1, memory_percent: 1, disk_percent: 1, process_count: 1 }, id);
};

/** A raw server: sends `connected` (Part B) on each connection unless `greet` is false, then runs `behaviour` on every frame. */
async function hostile(behaviour: Behaviour = sane, greet = true): Promise<{ url: string; wss: WebSocketServer; sockets: WebSocket[] }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(wss);
  await new Promise((r) => wss.once('listening', r));
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws) => {
    const n = sockets.push(ws) - 1;
    ws.on('error', () => {});
    if (greet) send(ws, 'connected', { connection_id: `h${n}`, protocol: 3, features: ['request_id', 'resume'], epoch: 'E' });
    ws.on('message', (raw) => behaviour(ws, JSON.parse(String(raw)) as Frame, n));
  });
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}/api/ws`, wss, sockets };
}

function client(opts: ClientOptions = {}): { c: SigmaxWebSocketClient; errors: SigmaxError[]; closes: CloseInfo[] } {
  const c = new SigmaxWebSocketClient({ minReconnectDelay: 50, maxReconnectDelay: 100, pingInterval: 0, commandTimeout: 2000, ...opts });
  clients.push(c);
  const errors: SigmaxError[] = [];
  const closes: CloseInfo[] = [];
  c.on('error', (e) => errors.push(e));
  c.on('close', (x) => closes.push(x));
  return { c, errors, closes };
}

describe('hostile server', () => {
  it('garbage frames are reported one by one and the connection stays usable', async () => {
    const s = await hostile();
    const { c, errors } = client();
    await c.connect(s.url);
    const ws = s.sockets[0]!;
    for (const g of ['not json', '[1,2]', 'null', '42', '"str"', '{"no":"type"}', '{"type":7}', '{"type":"trade_executed"}']) ws.send(g);
    ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
    await waitFor(() => errors.length === 9, 'nine errors');
    expect(errors.every((e) => e.code === 'INVALID_FRAME')).toBe(true);
    expect(c.stats().invalidFrames).toBe(9);
    expect(c.state).toBe('open');
    expect(await c.ping()).toBeGreaterThanOrEqual(0);
  });

  it('events with wrong data types are reported and never delivered', async () => {
    const s = await hostile();
    const { c, errors } = client();
    const got: unknown[] = [];
    c.on('*', (e) => got.push(e));
    await c.connect(s.url);
    const ws = s.sockets[0]!;
    send(ws, 'trade_executed', { proposal_id: 'p', symbol: 'BTC/USDT', action: 'buy', size: '1', filled_price: 1, order_id: 'o', status: 'filled' });
    send(ws, 'market_update', { symbol: 'BTC/USDT' }); // an object where a list is expected
    send(ws, 'alert', { message: 42 });
    send(ws, 'trade_executed', { proposal_id: 'p', symbol: 'BTC/USDT', action: 'buy', size: 1, filled_price: 1, order_id: 'o', status: 'filled' }, { topic: 'executions', seq: -1 });
    await waitFor(() => errors.length === 4, 'four errors');
    expect(errors.map((e) => e.code)).toEqual(['INVALID_FRAME', 'INVALID_FRAME', 'INVALID_FRAME', 'INVALID_FRAME']);
    expect(got).toEqual([]);
    expect(c.state).toBe('open');
  });

  it('a 50 MB frame is reported without copying it into the message, and the connection goes on', async () => {
    const s = await hostile();
    const { c, errors } = client();
    const got: string[] = [];
    c.on('alert', (e) => got.push(e.data.message ?? ''));
    await c.connect(s.url);
    const ws = s.sockets[0]!;
    ws.send(`{"type":"alert","data":{"message":${'9'.repeat(50 * 1024 * 1024)}}}`);
    send(ws, 'alert', { message: 'after' });
    await waitFor(() => got.length === 1, 'the next event', 15_000);
    expect(got).toEqual(['after']);
    expect(errors.map((e) => e.code)).toEqual(['INVALID_FRAME']);
    expect(errors[0]!.message.length).toBeLessThan(500);
    expect(c.state).toBe('open');
  }, 30_000);

  it('a server that never answers pings is declared dead (4000) and the client reconnects', async () => {
    const s = await hostile(() => {});
    const { c, closes } = client({ pingInterval: 100, pingTimeout: 200 });
    await c.connect(s.url);
    await waitFor(() => closes.length >= 1 && c.state === 'open', 'a 4000 close, then open again');
    expect(closes[0]).toMatchObject({ code: 4000, willRetry: true });
    expect(s.sockets.length).toBeGreaterThanOrEqual(2);
  });

  it('a half-open socket (bytes vanish both ways) fails the pending call with CONNECTION_LOST, then the client reconnects', async () => {
    const s = await hostile();
    const proxy = await startProxy(Number(new URL(s.url).port));
    const { c, closes } = client({ pingInterval: 100, pingTimeout: 300 });
    await c.connect(`ws://127.0.0.1:${proxy.port}/api/ws`);
    proxy.blackhole(true);
    const pending = c.getStatus().catch((e: SigmaxError) => e.code);
    expect(await pending).toBe('CONNECTION_LOST');
    expect(closes[0]).toMatchObject({ code: 4000, willRetry: true });
    proxy.blackhole(false);
    await waitFor(() => c.state === 'open', 'reconnected');
    expect(await c.getStatus()).toMatchObject({ running: true });
  });

  it.each([1000, 1001, 1002, 1003, 1007, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999])('close %i after open: reported, then the client reconnects', async (code) => {
    const s = await hostile();
    const { c, closes } = client();
    await c.connect(s.url);
    s.sockets[0]!.close(code, 'bye');
    await waitFor(() => closes.length === 1 && c.state === 'open', 'reconnected');
    expect(closes[0]).toEqual({ code, reason: 'bye', willRetry: true });
    expect(c.connectionId).toBe('h1');
  });

  it('close 1006 (socket destroyed, no close frame) after open: the client reconnects', async () => {
    const s = await hostile();
    const { c, closes } = client();
    await c.connect(s.url);
    s.sockets[0]!.terminate();
    await waitFor(() => closes.length === 1 && c.state === 'open', 'reconnected');
    expect(closes[0]).toMatchObject({ code: 1006, willRetry: true });
  });

  it('close 1008 after open: the client stops with AuthenticationError', async () => {
    const s = await hostile();
    const { c, closes, errors } = client();
    await c.connect(s.url);
    s.sockets[0]!.close(1008, 'policy');
    await waitFor(() => c.state === 'closed', 'closed');
    expect(closes).toEqual([{ code: 1008, reason: 'policy', willRetry: false }]);
    expect(errors.map((e) => e.name)).toEqual(['AuthenticationError']);
    await new Promise((r) => setTimeout(r, 300));
    expect(s.sockets).toHaveLength(1);
  });

  it('replies with each other\'s request ids and types reject both calls with ProtocolError UNEXPECTED_REPLY', async () => {
    const pending: Frame[] = [];
    const s = await hostile((ws, f) => {
      if (f.type !== 'command') return;
      pending.push(f);
      if (pending.length < 2) return;
      const [status, health] = pending as [Frame, Frame];
      send(ws, 'health_update', { cpu_percent: 1, memory_percent: 1, disk_percent: 1, process_count: 1 }, { request_id: status.request_id });
      send(ws, 'system_status', { running: true }, { request_id: health.request_id });
    });
    const { c, errors } = client();
    await c.connect(s.url);
    const [a, b] = await Promise.all([c.getStatus().catch((e: SigmaxError) => e), c.getHealth().catch((e: SigmaxError) => e)]);
    expect(a).toMatchObject({ name: 'ProtocolError', code: 'UNEXPECTED_REPLY' });
    expect(b).toMatchObject({ name: 'ProtocolError', code: 'UNEXPECTED_REPLY' });
    expect(errors.map((e) => e.code)).toEqual(['UNEXPECTED_REPLY', 'UNEXPECTED_REPLY']);
    expect(c.state).toBe('open');
  });

  it('a reply with an id nobody sent is dropped, and the call it should have answered times out', async () => {
    const s = await hostile((ws, f) => f.type === 'ping' && send(ws, 'pong', { message: 'pong' }, { request_id: 'not-yours' }));
    const { c, errors } = client({ commandTimeout: 300 });
    await c.connect(s.url);
    expect(await c.ping().catch((e: SigmaxError) => e.code)).toBe('COMMAND_TIMEOUT');
    expect(errors).toEqual([]);
  });
});
