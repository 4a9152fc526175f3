import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/server/config.js';
import { Counters, type ServerContext, type SessionSocket } from '../../src/server/context.js';
import { Hub } from '../../src/server/hub.js';
import { MemoryEventLog } from '../../src/server/log/memory.js';
import { Session } from '../../src/server/session.js';

/** A socket double: records frames; `bufferedAmount` is settable. */
class FakeSocket implements SessionSocket {
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  closedWith: number | undefined;
  terminated = false;
  send(data: Buffer | string): void {
    this.sent.push(data.toString());
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 2;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
  frames() {
    return this.sent.map((s) => JSON.parse(s) as { type: string; data: { code?: string }; request_id?: string });
  }
}

function setup(overrides: Parameters<typeof resolveOptions>[0] = {}) {
  const options = resolveOptions(overrides);
  const log = new MemoryEventLog();
  const hub = new Hub(false);
  const closing: SessionSocket[] = [];
  const closed: Session[] = [];
  const ctx: ServerContext = {
    options,
    log,
    hub,
    counters: new Counters(),
    features: ['resume'],
    systemStatus: () => ({ running: true }),
    portfolio: () => ({ total_value: 1, available_cash: 1, positions: [], total_pnl: 0, total_pnl_percent: 0 }),
    health: async () => ({ cpu_percent: 1, memory_percent: 1, disk_percent: 1, process_count: 1 }),
    closeSoon: (s) => closing.push(s),
    sessionClosed: (s) => closed.push(s),
  };
  const socket = new FakeSocket();
  const session = new Session(socket, ctx, 'conn-1');
  return { socket, session, ctx, hub, log, closing, closed };
}

const text = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('Session (without ws)', () => {
  it('opens with connected then system_status', () => {
    const { socket, session } = setup();
    session.open();
    expect(socket.frames().map((f) => f.type)).toEqual(['connected', 'system_status']);
  });

  it('holds no subscription Sets until the first subscribe', () => {
    const { session } = setup();
    expect(session.topics).toBeNull();
    expect(session.symbols).toBeNull();
    session.receive(text({ type: 'subscribe', data: { topics: ['market'] } }), false);
    expect(session.topics).toEqual(new Set(['market']));
    expect(session.symbols).toBeNull();
    session.receive(text({ type: 'unsubscribe', data: { topics: ['market'] } }), false);
    expect(session.topics).toBeNull();
  });

  it('answers with request_id and counts every frame sent', () => {
    const { socket, session, ctx } = setup();
    session.receive(text({ type: 'ping', request_id: 'a' }), false);
    expect(socket.frames()[0]).toMatchObject({ type: 'pong', request_id: 'a' });
    expect(ctx.counters.messagesSent).toBe(1);
  });

  it('closes a slow consumer with SLOW_CONSUMER and 1013 and asks for termination if the close lingers', () => {
    const { socket, session, closing, ctx } = setup({ maxBufferedBytes: 2048 });
    socket.bufferedAmount = 4096;
    session.receive(text({ type: 'ping' }), false);
    expect(socket.frames().at(-1)).toMatchObject({ type: 'error', data: { code: 'SLOW_CONSUMER' } });
    expect(socket.closedWith).toBe(1013);
    expect(closing).toEqual([socket]);
    expect(ctx.counters.slowConsumers).toBe(1);
    session.receive(text({ type: 'ping' }), false);
    expect(socket.frames().filter((f) => f.type === 'pong')).toHaveLength(0);
  });

  it('drops live events at or below lastSent (never a duplicate)', () => {
    const { socket, session } = setup();
    const ev = (seq: number) => ({ type: 'alert' as const, data: {}, timestamp: '', topic: 'alerts', seq });
    session.deliver(ev(2), Buffer.from('{"seq":2}'));
    session.deliver(ev(2), Buffer.from('{"seq":2}'));
    session.deliver(ev(1), Buffer.from('{"seq":1}'));
    session.deliver(ev(3), Buffer.from('{"seq":3}'));
    expect(socket.sent).toEqual(['{"seq":2}', '{"seq":3}']);
  });

  it('removes its subscriptions from the hub when closed, once', () => {
    const { session, hub, closed } = setup();
    session.receive(text({ type: 'subscribe', data: { topics: ['market'], symbols: ['BTC/USDT'] } }), false);
    expect(hub.subscriptionCount).toBe(2);
    session.closed();
    session.closed();
    expect(hub.subscriptionCount).toBe(0);
    expect(closed).toEqual([session]);
  });
});
