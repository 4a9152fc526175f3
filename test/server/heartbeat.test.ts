import { afterEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat, KERNEL_DRAIN_GRACES } from '../../src/server/heartbeat.js';
import type { Session } from '../../src/server/session.js';
import { connect, open, startServer, waitUntil } from './helpers.js';

describe('server heartbeat (real sockets)', () => {
  it('sends {"type":"ping"} every heartbeat interval', async () => {
    const server = await startServer({ heartbeatInterval: 200, connectionTimeout: 5000 });
    const c = await connect(server);
    const p1 = await c.next('ping', 2000);
    const p2 = await c.next('ping', 2000);
    expect(Object.keys(p1).sort()).toEqual(['timestamp', 'type']);
    expect(Date.parse(p2.timestamp!) - Date.parse(p1.timestamp!)).toBeGreaterThan(0);
  });

  it('terminates a connection silent for connectionTimeout, cleans up, and counts it', async () => {
    const server = await startServer({ heartbeatInterval: 100, connectionTimeout: 300 });
    const silent = await open(server, { autoPong: false });
    // Nor protocol pongs (autoPong off) nor JSON pongs: after this subscribe the connection is silent.
    await silent.next('connected');
    await silent.request({ type: 'subscribe', data: { topics: ['alerts'] } }, 'subscribed');
    const closed = await silent.closed;
    expect([1006, 4000]).toContain(closed.code);
    await waitUntil(() => server.stats().active_connections === 0);
    expect(server.stats()).toMatchObject({ total_connections_lifetime: 1, total_disconnections_lifetime: 1, subscriptions_count: 0, topics: [] });
  });

  it('keeps a connection that sends anything (pong, any other message, or a WebSocket ping) within the timeout', async () => {
    const server = await startServer({ heartbeatInterval: 100, connectionTimeout: 1000 });
    const c = await connect(server);
    const d = await connect(server);
    c.ws.on('message', (m) => {
      if (JSON.parse(m.toString()).type === 'ping') c.send({ type: 'pong' });
    });
    d.ws.on('message', (m) => {
      if (JSON.parse(m.toString()).type === 'ping') d.send({ type: 'get_status' });
    });
    // 20 pings take about 2 s: twice the timeout.
    const e = await connect(server);
    const keepAlive = setInterval(() => e.ws.ping(), 100); // WebSocket-level pings only
    try {
      for (let i = 0; i < 20; i++) await c.next('ping', 2000);
    } finally {
      clearInterval(keepAlive);
    }
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    expect(d.ws.readyState).toBe(d.ws.OPEN);
    expect(e.ws.readyState).toBe(e.ws.OPEN);
    expect(server.stats().total_disconnections_lifetime).toBe(0);
  });
});

describe('Heartbeat (unit, fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function fakeSession(lastSeen: number) {
    const s = {
      state: 'open',
      lastSeen,
      writes: 0,
      closedWith: undefined as number | undefined,
      terminated: false,
      pings: 0,
      socket: {
        terminate() { /* set below */ },
        readyState: 1,
        ping() {
          s.pings++;
        },
      },
      write() {
        this.writes++;
        return true;
      },
      close(code: number) {
        this.closedWith = code;
        this.state = 'closing';
      },
    };
    return s;
  }

  it('sends a protocol-level ping frame with every JSON ping', () => {
    vi.useFakeTimers();
    const s = fakeSession(Date.now());
    const hb = new Heartbeat(new Set([s]) as unknown as Set<Session>, { intervalMs: 1000, timeoutMs: 60_000, closeGraceMs: 100 });
    hb.start();
    vi.advanceTimersByTime(3000);
    expect(s.writes).toBe(3);
    expect(s.pings).toBe(3);
    hb.stop();
  });

  it('does not ping a connection during its first interval (counters stay exact right after connect)', () => {
    vi.useFakeTimers();
    const s = Object.assign(fakeSession(Date.now()), { openedAt: Date.now() });
    const hb = new Heartbeat(new Set([s]) as unknown as Set<Session>, { intervalMs: 1000, timeoutMs: 60_000, closeGraceMs: 100 });
    hb.start();
    vi.advanceTimersByTime(900);
    expect(s.writes).toBe(0);
    vi.advanceTimersByTime(2100);
    expect(s.writes).toBeGreaterThanOrEqual(1);
    expect(s.pings).toBe(s.writes);
    hb.stop();
  });

  it('a draining slow consumer is terminated only once its backlog stops shrinking for a whole grace', () => {
    vi.useFakeTimers();
    const hb = new Heartbeat(new Set(), { intervalMs: 1000, timeoutMs: 2000, closeGraceMs: 300 });
    let terminated = 0;
    const socket = { readyState: 2, bufferedAmount: 100_000, send() {}, close() {}, terminate: () => void terminated++ };
    hb.closeSoon(socket, true);
    hb.start();
    for (let i = 0; i < 10; i++) {
      socket.bufferedAmount -= 5_000; // reads a little each grace
      vi.advanceTimersByTime(300);
    }
    expect(terminated).toBe(0);
    vi.advanceTimersByTime(700); // no progress for a whole grace
    expect(terminated).toBe(1);
    hb.stop();
  });

  it('a drained slow consumer (all handed to the kernel) gets KERNEL_DRAIN_GRACES more graces, then is terminated', () => {
    vi.useFakeTimers();
    const hb = new Heartbeat(new Set(), { intervalMs: 1000, timeoutMs: 2000, closeGraceMs: 100 });
    let terminated = 0;
    const socket = { readyState: 2, bufferedAmount: 10_000, send() {}, close() {}, terminate: () => void terminated++ };
    hb.closeSoon(socket, true);
    hb.start();
    socket.bufferedAmount = 0;
    vi.advanceTimersByTime(150);
    vi.advanceTimersByTime(100 * KERNEL_DRAIN_GRACES - 100);
    expect(terminated).toBe(0);
    vi.advanceTimersByTime(300);
    expect(terminated).toBe(1);
    hb.stop();
  });

  it('spreads one pass over the interval: each session is pinged once per interval, in slices', () => {
    vi.useFakeTimers();
    const now = Date.now();
    const list = Array.from({ length: 1000 }, () => fakeSession(now));
    const set = new Set(list) as unknown as Set<Session>;
    const hb = new Heartbeat(set, { intervalMs: 1000, timeoutMs: 60_000, closeGraceMs: 100 });
    hb.start();
    vi.advanceTimersByTime(10); // one tick (interval / 100)
    const afterOneTick = list.reduce((a, s) => a + s.writes, 0);
    expect(afterOneTick).toBe(10);
    vi.advanceTimersByTime(990);
    expect(list.every((s) => s.writes === 1)).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(list.every((s) => s.writes === 2)).toBe(true);
    hb.stop();
    vi.advanceTimersByTime(5000);
    expect(list.every((s) => s.writes === 2)).toBe(true);
  });

  it('pings a few sessions only once per interval (no extra passes)', () => {
    vi.useFakeTimers();
    const s = fakeSession(Date.now());
    const hb = new Heartbeat(new Set([s]) as unknown as Set<Session>, { intervalMs: 1000, timeoutMs: 60_000, closeGraceMs: 100 });
    hb.start();
    vi.advanceTimersByTime(3000);
    expect(s.writes).toBe(3);
    hb.stop();
  });

  it('closes with 4000 and terminates a session silent for longer than the timeout', () => {
    vi.useFakeTimers();
    const s = fakeSession(Date.now());
    let terminated = 0;
    s.socket.terminate = () => void terminated++;
    const hb = new Heartbeat(new Set([s]) as unknown as Set<Session>, { intervalMs: 100, timeoutMs: 250, closeGraceMs: 100 });
    hb.start();
    vi.advanceTimersByTime(200);
    expect(terminated).toBe(0);
    vi.advanceTimersByTime(300);
    expect(s.closedWith).toBe(4000);
    expect(terminated).toBe(1);
    hb.stop();
  });

  it('terminates a socket whose close handshake does not complete within the grace period', () => {
    vi.useFakeTimers();
    const hb = new Heartbeat(new Set(), { intervalMs: 1000, timeoutMs: 2000, closeGraceMs: 300 });
    let terminated = 0;
    const closing = { readyState: 2, bufferedAmount: 0, send() {}, close() {}, terminate: () => void terminated++ };
    const done = { ...closing, readyState: 3 };
    hb.closeSoon(closing);
    hb.closeSoon(done);
    hb.start();
    vi.advanceTimersByTime(200);
    expect(terminated).toBe(0);
    vi.advanceTimersByTime(200);
    expect(terminated).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(terminated).toBe(1);
    hb.stop();
  });

  it('visits only due closing sockets on a tick (a mass close is not rescanned every tick)', () => {
    vi.useFakeTimers();
    const hb = new Heartbeat(new Set(), { intervalMs: 1000, timeoutMs: 2000, closeGraceMs: 500 });
    let reads = 0;
    const sockets = Array.from({ length: 1000 }, () => ({
      get readyState() {
        reads++;
        return 2;
      },
      bufferedAmount: 0,
      send() {},
      close() {},
      terminate() {},
    }));
    for (const s of sockets) hb.closeSoon(s);
    hb.start();
    vi.advanceTimersByTime(400); // 40 ticks, nothing due yet
    expect(reads).toBe(0);
    vi.advanceTimersByTime(200);
    expect(reads).toBe(1000); // each terminated once when due
    hb.stop();
  });
});
