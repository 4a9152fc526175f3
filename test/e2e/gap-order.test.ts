/**
 * Frame order across a resume (PROTOCOL.md Part B 4): events that a server sends right after the `subscribed`
 * reply of a restore — in the same socket read — are handled after that reply. After `recovered: false` the
 * application sees the gap before any event that follows it, and the position is kept in frame order.
 * A raw `ws` server on port 0 writes the reply and the events in one corked write, so they arrive in one read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { SigmaxWebSocketClient, type GapMarker, type SigmaxEvent } from '../../src/index.js';
import { trade, useHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

useHarness();

interface Frame {
  type: string;
  request_id?: string;
  data?: { topics?: string[]; symbols?: string[]; since?: { epoch: string; seq: number } };
}
/** What the server answers to the restoring `subscribe` of connection `n`: the reply's extra fields and the events after it. */
type Plan = (n: number, f: Frame) => { reply: Record<string, unknown>; events: number[] };

const servers: WebSocketServer[] = [];
const clients: SigmaxWebSocketClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => (s.clients.forEach((c) => c.terminate()), s.close(r)))));
});

/** Connection `n` announces epoch `epochOf(n)`; each `subscribe` is answered, then followed by its events, in one write. */
async function server(epochOf: (n: number) => string, plan: Plan): Promise<{ url: string; sockets: WebSocket[]; subscribes: Frame[] }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(wss);
  await new Promise((r) => wss.once('listening', r));
  const sockets: WebSocket[] = [];
  const subscribes: Frame[] = [];
  wss.on('connection', (ws) => {
    const n = sockets.push(ws) - 1;
    const epoch = epochOf(n);
    const send = (o: object) => ws.send(JSON.stringify({ timestamp: 't', ...o }));
    ws.on('error', () => {});
    send({ type: 'connected', data: { connection_id: `g${n}`, protocol: 3, features: ['request_id', 'resume', 'exactly_once'], epoch } });
    ws.on('message', (raw) => {
      const f = JSON.parse(String(raw)) as Frame;
      if (f.type !== 'subscribe') return;
      subscribes.push(f);
      const { reply, events } = plan(n, f);
      const socket = (ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
      socket.cork(); // the reply and its events leave in one write, so the client reads them at once
      send({ type: 'subscribed', request_id: f.request_id, data: { topics: f.data?.topics ?? [], symbols: f.data?.symbols ?? [], epoch, ...reply } });
      for (const seq of events) send({ type: 'trade_executed', topic: 'executions', seq, data: trade(seq) });
      process.nextTick(() => socket.uncork());
    });
  });
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}/api/ws`, sockets, subscribes };
}

function client(): SigmaxWebSocketClient {
  const c = new SigmaxWebSocketClient({ minReconnectDelay: 20, maxReconnectDelay: 50, pingInterval: 0, commandTimeout: 2000 });
  clients.push(c);
  return c;
}

/** What handlers saw, in order, with the state each was called in. */
function record(c: SigmaxWebSocketClient): string[] {
  const log: string[] = [];
  c.on('gap', (g) => log.push(`gap ${g.epoch}:${g.seq} ${g.reason}`));
  c.on('trade_executed', (e) => log.push(`trade ${e.seq} (${c.state})`));
  return log;
}

async function take(it: AsyncIterator<SigmaxEvent<'trade_executed'> | GapMarker>, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value.type === 'gap' ? `gap ${r.value.epoch}:${r.value.seq}` : `trade ${r.value.seq}`);
  }
  return out;
}

describe('gap before the events that follow it', () => {
  it('recovered:false then events in the same read: handlers and listen() see the gap first', async () => {
    // Connection 0 (epoch A): events 1..3. Connection 1 (epoch B): recovered false, then B's events 1..2.
    const s = await server((n) => (n === 0 ? 'A' : 'B'), (n) => (n === 0 ? { reply: { seq: 0 }, events: [1, 2, 3] } : { reply: { recovered: false, seq: 0 }, events: [1, 2] }));
    const c = client();
    const log = record(c);
    const it = c.listen({ types: ['trade_executed'] });
    await c.subscribe({ topics: ['executions'] });
    await c.connect(s.url);
    await waitFor(() => log.length === 3, 'three events on epoch A');
    s.sockets[0]!.terminate();
    await waitFor(() => log.length === 6, 'a gap and two events on epoch B');
    expect(s.subscribes[1]?.data?.since).toEqual({ epoch: 'A', seq: 3 });
    expect(log).toEqual(['trade 1 (open)', 'trade 2 (open)', 'trade 3 (open)', 'gap A:3 epoch_changed', 'trade 1 (open)', 'trade 2 (open)']);
    expect(await take(it, 6)).toEqual(['trade 1', 'trade 2', 'trade 3', 'gap A:3', 'trade 1', 'trade 2']);
    expect(c.position).toEqual({ epoch: 'B', seq: 2 });
  });

  it('history exceeded (same epoch): the gap comes first and the position is not set back by the reply', async () => {
    // Connection 1: the server lost history after 3 but has 8 and 9 (its head before them was 7).
    const s = await server(() => 'E', (n) => (n === 0 ? { reply: { seq: 0 }, events: [1, 2, 3] } : n === 1 ? { reply: { recovered: false, seq: 7 }, events: [8, 9] } : { reply: { recovered: true, seq: 9 }, events: [] }));
    const c = client();
    const log = record(c);
    await c.subscribe({ topics: ['executions'] });
    await c.connect(s.url);
    await waitFor(() => log.length === 3, 'three events');
    s.sockets[0]!.terminate();
    await waitFor(() => log.length === 6, 'a gap and two events');
    expect(log.slice(3)).toEqual(['gap E:3 history_exceeded', 'trade 8 (open)', 'trade 9 (open)']);
    expect(c.position).toEqual({ epoch: 'E', seq: 9 });
    // The next resume starts after 9: nothing delivered is asked for (or delivered) again.
    s.sockets[1]!.terminate();
    await waitFor(() => s.subscribes.length === 3 && c.state === 'open', 'a third restore');
    expect(s.subscribes[2]?.data?.since).toEqual({ epoch: 'E', seq: 9 });
  });

  it('recovered:true then replayed events in the same read: each is delivered once, in order, in state open', async () => {
    const s = await server(() => 'E', (n, f) => (n === 0 ? { reply: { seq: 0 }, events: [1, 2] } : { reply: { recovered: true, seq: 4 }, events: [(f.data?.since?.seq ?? 0) + 1, 3, 4] }));
    const c = client();
    const log = record(c);
    await c.subscribe({ topics: ['executions'] });
    await c.connect(s.url);
    await waitFor(() => log.length === 2, 'two events');
    s.sockets[0]!.terminate();
    await waitFor(() => log.length === 4, 'the replay');
    expect(log).toEqual(['trade 1 (open)', 'trade 2 (open)', 'trade 3 (open)', 'trade 4 (open)']);
    expect(c.stats().duplicatesDropped).toBe(1);
    expect(c.position).toEqual({ epoch: 'E', seq: 4 });
  });
});

describe('frame path', () => {
  it('a handler that disconnects mid-batch stops the rest of that batch', async () => {
    const s = await server(() => 'E', () => ({ reply: { seq: 0 }, events: [] }));
    const c = client();
    const log = record(c);
    c.on('trade_executed', (e) => void (e.seq === 1 && c.disconnect()));
    await c.subscribe({ topics: ['executions'] });
    await c.connect(s.url);
    const ev = (seq: number) => ({ type: 'trade_executed', topic: 'executions', seq, timestamp: 't', data: trade(seq) });
    s.sockets[0]!.send(JSON.stringify({ type: 'batch', events: [ev(1), ev(2), ev(3)] }));
    await waitFor(() => c.state === 'closed', 'closed');
    await new Promise((r) => setTimeout(r, 50));
    expect(log).toEqual(['trade 1 (open)']);
    expect(c.stats().eventsReceived).toBe(1);
  });
});
