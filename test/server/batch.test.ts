/** Batched frames (PROTOCOL.md Part B 7): the server's per-connection coalescing. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/protocol/index.js';
import { BATCH_MS_MAX, batchFromUrl } from '../../src/server/batch.js';
import { resolveOptions } from '../../src/server/config.js';
import { Counters, type ServerContext, type SessionSocket } from '../../src/server/context.js';
import { Hub } from '../../src/server/hub.js';
import { MemoryEventLog } from '../../src/server/log/memory.js';
import type { SequencedEvent } from '../../src/server/log/types.js';
import { Session } from '../../src/server/session.js';
import { SAMPLE, connect, startServer, waitUntil, type Frame, type TestClient } from './helpers.js';

/** A socket double that records what is sent. */
class FakeSocket implements SessionSocket {
  readyState = 1;
  bufferedAmount = 0;
  /** When set, nothing sent leaves: every frame adds to `bufferedAmount`. */
  stuck = false;
  sent: string[] = [];
  closedWith: number | undefined;
  send(data: Buffer | string, _o: unknown, cb?: (err?: Error) => void): void {
    this.sent.push(data.toString());
    if (this.stuck) this.bufferedAmount += data.length;
    cb?.();
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 2;
  }
  terminate(): void {
    this.readyState = 3;
  }
  types(): string[] {
    return this.sent.map((s) => (JSON.parse(s) as { type: string }).type);
  }
}

function session(url: string, options: Parameters<typeof resolveOptions>[0] = {}) {
  const ctx: ServerContext = {
    options: resolveOptions(options),
    log: new MemoryEventLog(),
    hub: new Hub(false),
    counters: new Counters(),
    features: ['resume', 'batch'],
    systemStatus: () => ({ running: true }),
    portfolio: () => ({ total_value: 1, available_cash: 1, positions: [], total_pnl: 0, total_pnl_percent: 0 }),
    health: async () => ({ cpu_percent: 1, memory_percent: 1, disk_percent: 1, process_count: 1 }),
    closeSoon: () => undefined,
    sessionClosed: () => undefined,
  };
  const socket = new FakeSocket();
  const s = new Session(socket, ctx, 'c1');
  s.batch = batchFromUrl(url);
  return { socket, s, ctx };
}

const ev = (seq: number): SequencedEvent => ({ type: 'alert', data: { message: `m${seq}`, level: 'info' }, timestamp: 't', topic: 'alerts', seq });
const payload = (seq: number) => Buffer.from(JSON.stringify({ ...ev(seq), type: 'alert' }));
const seqs = (f: Frame) => (f.events as Frame[]).map((e) => e.seq);
const turn = () => new Promise<void>((r) => setImmediate(r));

afterEach(() => {
  vi.useRealTimers();
});

describe('batch query parameters', () => {
  it('turns batching on only with batch=1, and caps batch_ms', () => {
    expect(batchFromUrl('/api/ws')).toBeNull();
    expect(batchFromUrl('/api/ws?batch=0')).toBeNull();
    expect(batchFromUrl('/api/ws?batch_ms=20')).toBeNull();
    expect(batchFromUrl('/api/ws?batch=1')?.delayMs).toBe(0);
    expect(batchFromUrl('/api/ws?api_key=k&batch=1&batch_ms=20')?.delayMs).toBe(20);
    expect(batchFromUrl(`/api/ws?batch=1&batch_ms=${BATCH_MS_MAX * 50}`)?.delayMs).toBe(BATCH_MS_MAX);
    expect(BATCH_MS_MAX).toBe(100);
    for (const bad of ['-5', 'abc', '1e400', '']) expect(batchFromUrl(`/api/ws?batch=1&batch_ms=${bad}`)?.delayMs).toBe(0);
  });
});

describe('Session with batching (without ws)', () => {
  it('coalesces the events of one turn into one frame that joins their exact bytes', async () => {
    const { socket, s } = session('/api/ws?batch=1');
    for (const seq of [1, 2, 3]) s.deliver(ev(seq), payload(seq));
    expect(socket.sent).toEqual([]); // nothing waits longer than this turn
    await turn();
    expect(socket.sent).toEqual([`{"type":"batch","events":[${[1, 2, 3].map((n) => payload(n).toString()).join(',')}]}`]);
  });

  it('sends a lone event as its plain frame', async () => {
    const { socket, s } = session('/api/ws?batch=1');
    s.deliver(ev(1), payload(1));
    await turn();
    expect(socket.sent).toEqual([payload(1).toString()]);
  });

  it('never batches replies, and flushes pending events before a reply so order is kept', async () => {
    const { socket, s } = session('/api/ws?batch=1');
    s.deliver(ev(1), payload(1));
    s.deliver(ev(2), payload(2));
    s.receive(Buffer.from(JSON.stringify({ type: 'ping', request_id: 'r1' })), false);
    s.deliver(ev(3), payload(3));
    s.receive(Buffer.from(JSON.stringify({ type: 'get_status', request_id: 'r2' })), false);
    await turn();
    expect(socket.types()).toEqual(['batch', 'pong', 'alert', 'system_status']);
    expect(JSON.parse(socket.sent[0]!).events.map((e: Frame) => e.seq)).toEqual([1, 2]);
  });

  it('without batch=1 sends one event per frame', async () => {
    const { socket, s } = session('/api/ws');
    for (const seq of [1, 2, 3]) s.deliver(ev(seq), payload(seq));
    expect(socket.sent).toEqual([1, 2, 3].map((n) => payload(n).toString()));
  });

  it('with batch_ms waits up to N ms (capped at BATCH_MS_MAX) with one timer', async () => {
    vi.useFakeTimers();
    const { socket, s } = session('/api/ws?batch=1&batch_ms=100000');
    s.deliver(ev(1), payload(1));
    await vi.advanceTimersByTimeAsync(60);
    s.deliver(ev(2), payload(2));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(BATCH_MS_MAX - 61);
    expect(socket.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.types()).toEqual(['batch']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('applies the slow-consumer limit per event, counting the events it holds', async () => {
    const { socket, s, ctx } = session('/api/ws?batch=1', { maxBufferedBytes: 2048 });
    socket.stuck = true;
    socket.bufferedAmount = 1500;
    s.deliver(ev(1), payload(1)); // 1500 + 0 held: under the limit
    expect(socket.closedWith).toBeUndefined();
    for (let seq = 2; seq < 20 && socket.closedWith === undefined; seq++) s.deliver(ev(seq), payload(seq));
    expect(socket.closedWith).toBe(1013);
    expect(ctx.counters.slowConsumers).toBe(1);
    expect(JSON.parse(socket.sent.at(-1)!)).toMatchObject({ type: 'error', data: { code: 'SLOW_CONSUMER' } });
  });
});

describe('batched frames over real sockets', () => {
  async function pair(query = '?batch=1', options = {}) {
    const server = await startServer(options);
    const plain = await connect(server);
    const batched = await connect(server, {}, query);
    for (const c of [plain, batched]) await c.request({ type: 'subscribe', data: { topics: ['all'] } }, 'subscribed');
    return { server, plain, batched };
  }

  it('announces batch and protocol 4 in connected', async () => {
    const server = await startServer();
    const c = await connect(server, {}, '?batch=1');
    const connected = c.frames[0]!;
    expect(PROTOCOL_VERSION).toBe(4);
    expect(connected.data).toMatchObject({ protocol: 4 });
    expect(connected.data.features).toContain('batch');
  });

  it('delivers events published together in one batch frame, each byte-exact the single frame', async () => {
    const { server, plain, batched } = await pair();
    await Promise.all([1, 2, 3].map((n) => server.publish('trade_executed', SAMPLE.trade('BTC/USDT', n))));
    await waitUntil(() => plain.events().length === 3);
    const batch = await batched.next('batch');
    const singles = plain.raw.filter((r) => r.startsWith('{"type":"trade_executed"'));
    expect(batched.raw.find((r) => r.startsWith('{"type":"batch"'))).toBe(`{"type":"batch","events":[${singles.join(',')}]}`);
    expect(seqs(batch)).toEqual([1, 2, 3]);
    expect(plain.all('batch')).toEqual([]);
  });

  it('delivers the events of one POST /api/events in one frame', async () => {
    const { server, batched } = await pair('?batch=1', { publishToken: 'tok' });
    const body = JSON.stringify([1, 2, 3, 4].map((n) => ({ type: 'alert', data: SAMPLE.alert(n % 2 ? 'BTC/USDT' : 'ETH/USDT') })));
    const res = await fetch(`http://127.0.0.1:${server.port}/api/events`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: 'Bearer tok' } });
    expect(res.status).toBe(202);
    const batch = await batched.next('batch');
    expect(seqs(batch)).toEqual([1, 2, 3, 4]);
  });

  it('adds no waiting without batch_ms: events of different turns go out alone', async () => {
    const { server, batched } = await pair();
    await server.publish('alert', SAMPLE.alert());
    await batched.waitFor((f) => f.seq === 1);
    await server.publish('alert', SAMPLE.alert());
    await batched.waitFor((f) => f.seq === 2);
    expect(batched.all('batch')).toEqual([]);
  });

  it('with batch_ms coalesces events of different turns', async () => {
    const { server, batched } = await pair('?batch=1&batch_ms=80');
    await server.publish('alert', SAMPLE.alert());
    await new Promise((r) => setTimeout(r, 5));
    await server.publish('alert', SAMPLE.alert());
    const batch = await batched.next('batch');
    expect(seqs(batch)).toEqual([1, 2]);
  });

  it('writes the events a connection holds before the server closes it (1001), not after nor never', async () => {
    const { server, batched } = await pair('?batch=1&batch_ms=80');
    await server.publish('alert', SAMPLE.alert());
    await server.publish('alert', SAMPLE.alert());
    await server.close(); // within the 80 ms the two events are held
    const { code } = await batched.closed;
    expect(code).toBe(1001);
    expect(batched.frames.flatMap((f) => (f.type === 'batch' ? seqs(f) : f.seq !== undefined ? [f.seq] : []))).toEqual([1, 2]);
  });

  it('writes the events a connection holds before the error when it closes one for a peer fault (1009)', async () => {
    const { server, batched } = await pair('?batch=1&batch_ms=80', { maxMessageSize: 1024 });
    await server.publish('alert', SAMPLE.alert());
    await server.publish('alert', SAMPLE.alert());
    batched.send({ type: 'ping', data: { pad: 'x'.repeat(1500) } });
    const { code } = await batched.closed;
    expect(code).toBe(1009);
    const frames = batched.frames.filter((f) => f.type !== 'ping');
    const tail = frames.slice(frames.findIndex((f) => f.type === 'subscribed') + 1);
    expect(tail.map((f) => (f.type === 'batch' ? `batch:${seqs(f).join(',')}` : `${f.type}:${(f.data as { code?: string })?.code}`))).toEqual(['batch:1,2', 'error:MESSAGE_TOO_LARGE']);
  });

  it('keeps replies in order with events and never batches them', async () => {
    const { server, batched } = await pair();
    void server.publish('alert', SAMPLE.alert());
    void server.publish('alert', SAMPLE.alert());
    batched.send({ type: 'ping', request_id: 'p' });
    await batched.next('pong');
    await server.publish('alert', SAMPLE.alert());
    await batched.waitFor((f) => f.seq === 3);
    // Heartbeat pings may come at any time: they are not what this test is about.
    const order = batched.frames.filter((f) => f.type !== 'ping').slice(3).map((f) => (f.type === 'batch' ? `batch:${seqs(f).join(',')}` : (f.seq ?? f.type)));
    expect(order).toEqual(['batch:1,2', 'pong', 3]);
  });

  it('does not batch for a Part A server, even when asked', async () => {
    const server = await startServer({ partAOnly: true });
    const c = await connect(server, {}, '?batch=1');
    expect(c.frames[0]!.data.features).toBeUndefined();
    await c.request({ type: 'subscribe', data: { topics: ['all'] } }, 'subscribed');
    await Promise.all([1, 2, 3].map((n) => server.publish('trade_executed', SAMPLE.trade('BTC/USDT', n))));
    await waitUntil(() => c.all('trade_executed').length === 3);
    expect(c.all('batch')).toEqual([]);
  });

  it('replays a resume page as one batch after `subscribed`, then goes live, with no gap or duplicate', async () => {
    const server = await startServer();
    for (let n = 1; n <= 6; n++) await server.publish('alert', SAMPLE.alert());
    const c: TestClient = await connect(server, {}, '?batch=1');
    const sub = await c.request({ type: 'subscribe', data: { topics: ['alerts'], since: { epoch: server.epoch, seq: 2 } }, request_id: 'r' }, 'subscribed');
    expect(sub.data).toMatchObject({ recovered: true, seq: 2 });
    const page = await c.next('batch');
    expect(seqs(page)).toEqual([3, 4, 5, 6]);
    await Promise.all([server.publish('alert', SAMPLE.alert()), server.publish('alert', SAMPLE.alert())]);
    const live = await c.next('batch');
    expect(seqs(live)).toEqual([7, 8]);
    const types = c.frames.map((f) => f.type).filter((t) => t !== 'ping').slice(2); // heartbeat pings may come any time
    expect(types).toEqual(['subscribed', 'batch', 'batch']);
  });
});
