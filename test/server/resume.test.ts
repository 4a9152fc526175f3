import { describe, expect, it } from 'vitest';
import { SAMPLE, connect, startServer, type Frame, type TestClient } from './helpers.js';
import { MemoryEventLog, type EventLog, type AppendResult, type HistoryRead, type NewEvent, type SequencedEvent, type SigmaxServer } from '../../src/server/index.js';

async function publishMixed(server: SigmaxServer, n: number): Promise<void> {
  const symbols = ['BTC/USDT', 'ETH/USDT'];
  for (let i = 0; i < n; i++) {
    const sym = symbols[i % 2]!;
    if (i % 3 === 0) await server.publish('trade_executed', SAMPLE.trade(sym, i));
    else if (i % 3 === 1) await server.publish('market_update', SAMPLE.market(['BTC/USDT', 'ETH/USDT', 'SOL/USDT']));
    else await server.publish('alert', SAMPLE.alert(sym));
  }
}

function seqs(c: TestClient): number[] {
  return c.events().map((f) => f.seq!);
}

describe('resume (Part B 4)', () => {
  it('replays exactly the retained matching events after since, after `subscribed`, then goes live', async () => {
    const server = await startServer();
    const live = await connect(server);
    await live.request({ type: 'subscribe', data: { topics: ['executions'], symbols: ['ETH/USDT'] } }, 'subscribed');
    await publishMixed(server, 12);
    await live.waitFor((f) => f.seq === 12);
    const since = 4;
    const expected = live.events().filter((f) => f.seq! > since);

    const c = await connect(server);
    const sub = await c.request(
      { type: 'subscribe', data: { topics: ['executions'], symbols: ['eth/usdt'], since: { epoch: server.epoch, seq: since } }, request_id: 'resume-1' },
      'subscribed',
    );
    expect(sub).toMatchObject({ request_id: 'resume-1', data: { recovered: true, epoch: server.epoch, seq: since, topics: ['executions'], symbols: ['ETH/USDT'] } });
    await c.waitFor((f) => f.seq === 12);
    const replayed = c.events();
    expect(replayed.map((f) => [f.type, f.seq, f.data])).toEqual(expected.map((f) => [f.type, f.seq, f.data]));
    // `subscribed` precedes every replayed event.
    expect(c.frames.findIndex((f) => f.type === 'subscribed')).toBeLessThan(c.frames.findIndex((f) => typeof f.seq === 'number'));
    // Market entries filtered to the session's symbols.
    for (const f of replayed.filter((x) => x.type === 'market_update')) expect(f.data).toEqual([expect.objectContaining({ symbol: 'ETH/USDT' })]);

    await server.publish('trade_executed', SAMPLE.trade('BTC/USDT', 99));
    const next = await c.next('trade_executed');
    await c.waitFor((f) => f.seq === 13);
    expect(next.seq).toBeLessThanOrEqual(13);
    expect(seqs(c)).toEqual([...expected.map((f) => f.seq), 13]);
  });

  it('recovers with nothing to replay when since is the last seq', async () => {
    const server = await startServer();
    await publishMixed(server, 5);
    const c = await connect(server);
    const sub = await c.request({ type: 'subscribe', data: { topics: ['all'], since: { epoch: server.epoch, seq: 5 } } }, 'subscribed');
    expect(sub.data.recovered).toBe(true);
    await server.publish('alert', SAMPLE.alert());
    await c.waitFor((f) => f.seq === 6);
    expect(seqs(c)).toEqual([6]);
  });

  it('has no gap and no duplicate when events are published during a long replay', async () => {
    const server = await startServer({ historySize: 10_000 });
    const HISTORY = 3000;
    const LIVE = 2000;
    // 3000 × ~2 KB: more than the loopback socket buffers hold, so the replay must wait for the reader.
    const pad = 'x'.repeat(2000);
    for (let i = 0; i < HISTORY; i++) await server.publish('alert', { message: `h${i}`, level: 'info', pad } as never);
    const c = await connect(server);
    const socket = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause(); // the client stops reading: the replay is held by back-pressure
    c.send({ type: 'subscribe', data: { topics: ['alerts'], since: { epoch: server.epoch, seq: 0 } } });
    for (let i = 0; i < LIVE; i++) {
      if (i === LIVE / 2) socket.resume(); // the second half is published while the replay drains
      await server.publish('alert', { message: `l${i}`, level: 'info' });
      if (i % 10 === 0) await new Promise((r) => setImmediate(r)); // let the replay interleave
    }
    await c.waitFor((f) => f.seq === HISTORY + LIVE, 15_000);
    await c.request({ type: 'ping' }, 'pong');
    expect(c.all('subscribed')[0]!.data.recovered).toBe(true);
    const got = seqs(c);
    expect(got.length).toBe(HISTORY + LIVE);
    expect(got).toEqual(Array.from({ length: HISTORY + LIVE }, (_, i) => i + 1));
    expect(server.stats().slow_consumers_lifetime).toBe(0);
  });

  it('has no gap and no duplicate for a symbol-filtered resume with concurrent market updates', async () => {
    const server = await startServer({ historySize: 5000 });
    await publishMixed(server, 900);
    const reference = await connect(server);
    await reference.request({ type: 'subscribe', data: { symbols: ['BTC/USDT'] } }, 'subscribed');
    const c = await connect(server);
    c.send({ type: 'subscribe', data: { symbols: ['BTC/USDT'], since: { epoch: server.epoch, seq: 0 } } });
    for (let i = 0; i < 300; i++) {
      await server.publish('market_update', SAMPLE.market(['ETH/USDT', 'BTC/USDT']));
      if (i % 5 === 0) await new Promise((r) => setImmediate(r));
    }
    await c.waitFor((f) => f.seq === 1200, 10_000);
    await reference.waitFor((f) => f.seq === 1200, 10_000);
    const got = c.events();
    expect(new Set(got.map((f) => f.seq)).size).toBe(got.length);
    expect(got.map((f) => f.seq)).toEqual([...got.map((f) => f.seq!)].sort((a, b) => a - b));
    // Every live event the reference client saw is there, identically.
    const tail = got.filter((f) => f.seq! > 900).map((f: Frame) => [f.seq, f.data]);
    expect(tail).toEqual(reference.events().map((f) => [f.seq, f.data]));
    // And the history part has every BTC event (trades on even i, all market updates, alerts on even i).
    expect(got.filter((f) => f.seq! <= 900).every((f) => JSON.stringify(f.data).includes('BTC/USDT'))).toBe(true);
    expect(got.filter((f) => f.seq! <= 900).length).toBe(600);
  });

  it('answers recovered:false for another epoch, then sends live events only', async () => {
    const server = await startServer();
    await publishMixed(server, 6);
    const c = await connect(server);
    const sub = await c.request({ type: 'subscribe', data: { topics: ['all'], since: { epoch: 'some-other-epoch', seq: 2 } } }, 'subscribed');
    expect(sub.data).toMatchObject({ recovered: false, epoch: server.epoch, seq: 6 });
    await server.publish('alert', SAMPLE.alert());
    await c.waitFor((f) => f.seq === 7);
    expect(seqs(c)).toEqual([7]);
  });

  it('answers recovered:false when since is older than the retained history', async () => {
    const server = await startServer({ historySize: 5 });
    await publishMixed(server, 20);
    const c = await connect(server);
    const old = await c.request({ type: 'subscribe', data: { topics: ['all'], since: { epoch: server.epoch, seq: 10 } } }, 'subscribed');
    expect(old.data.recovered).toBe(false);
    await server.publish('alert', SAMPLE.alert());
    await c.waitFor((f) => f.seq === 21);
    expect(seqs(c)).toEqual([21]);
    // The oldest covered position: retained events are 16..20, so since=15 is covered.
    const d = await connect(server);
    const ok = await d.request({ type: 'subscribe', data: { topics: ['all'], since: { epoch: server.epoch, seq: 16 } } }, 'subscribed');
    expect(ok.data.recovered).toBe(true);
    await d.waitFor((f) => f.seq === 21);
    expect(seqs(d)).toEqual([17, 18, 19, 20, 21]);
  });

  it('a restarted server (new epoch, same port) answers recovered:false', async () => {
    const first = await startServer();
    const epoch = first.epoch!;
    await publishMixed(first, 3);
    const port = first.port;
    await first.close();
    const second = await startServer({ port });
    expect(second.epoch).not.toBe(epoch);
    const c = await connect(second);
    const sub = await c.request({ type: 'subscribe', data: { topics: ['all'], since: { epoch, seq: 3 } } }, 'subscribed');
    expect(sub.data.recovered).toBe(false);
  });
});

/**
 * A log like a networked one: a read takes its snapshot, then answers a few macrotasks later;
 * committed events reach onEvent a macrotask after the commit.
 */
class LaggyLog implements EventLog {
  readonly #inner: MemoryEventLog;
  readonly epoch: string;
  constructor(historySize = 10_000) {
    this.#inner = new MemoryEventLog({ historySize });
    this.epoch = this.#inner.epoch;
  }
  start(onEvent: (e: SequencedEvent) => void): Promise<void> {
    return this.#inner.start((e) => setImmediate(() => onEvent(e)));
  }
  append(events: readonly NewEvent[]): Promise<AppendResult[]> {
    return this.#inner.append(events);
  }
  async readAfter(epoch: string, after: number, limit: number): Promise<HistoryRead> {
    const r = await this.#inner.readAfter(epoch, after, limit);
    // The answer takes longer than a delivery: events committed after the snapshot can be delivered first.
    for (let i = 0; i < 3; i++) await new Promise((res) => setImmediate(res));
    return r;
  }
  status() {
    return this.#inner.status();
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}

describe('resume with a log whose delivery lags its commits (like Redis)', () => {
  it('has no gap and no duplicate when events are published during the replay', async () => {
    const server = await startServer({ eventLog: new LaggyLog() });
    for (let i = 0; i < 500; i++) await server.publish('alert', { message: `h${i}` });
    const c = await connect(server);
    c.send({ type: 'subscribe', data: { topics: ['alerts'], since: { epoch: server.epoch, seq: 0 } } });
    // Publish on every turn of the event loop while the replay runs.
    for (let i = 0; i < 1500; i++) {
      void server.publish('alert', { message: `l${i}` });
      await new Promise((r) => setImmediate(r));
    }
    await c.waitFor((f) => f.seq === 2000, 10_000);
    await c.request({ type: 'ping' }, 'pong');
    expect(seqs(c)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
  });
});

describe('resume without history', () => {
  it('with historySize 0 a stale since gets recovered:false and then every live event, connection kept', async () => {
    const server = await startServer({ historySize: 0 });
    await publishMixed(server, 5);
    const c = await connect(server);
    c.send({ type: 'subscribe', data: { topics: ['all'], since: { epoch: server.epoch, seq: 1 } } });
    for (let i = 0; i < 50; i++) await server.publish('alert', SAMPLE.alert());
    const sub = await c.next('subscribed');
    expect(sub.data.recovered).toBe(false);
    await server.publish('alert', SAMPLE.alert());
    await c.waitFor((f) => f.seq === 56);
    const got = seqs(c);
    // Live events only, from wherever the subscribe was handled: consecutive (no gap, no duplicate) up to 56.
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => 56 - got.length + 1 + i));
    expect(got.length).toBeGreaterThan(0);
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });
});

describe('resume edge cases', () => {
  it('recovered:false without history: every event after the seq in the reply, including those published meanwhile', async () => {
    const server = await startServer({ eventLog: new LaggyLog(0) });
    for (let i = 0; i < 5; i++) await server.publish('alert', { message: `h${i}` });
    const c = await connect(server);
    c.send({ type: 'subscribe', data: { topics: ['alerts'], since: { epoch: 'another-epoch', seq: 3 } } });
    // Publish on every turn of the event loop while the server works out where the session continues.
    for (let i = 0; i < 200; i++) {
      void server.publish('alert', { message: `l${i}` });
      await new Promise((r) => setImmediate(r));
    }
    await c.waitFor((f) => f.seq === 205, 10_000);
    const sub = c.all('subscribed')[0]!;
    expect(sub.data.recovered).toBe(false);
    const from: number = sub.data.seq;
    expect(seqs(c)).toEqual(Array.from({ length: 205 - from }, (_, i) => from + 1 + i));
  });

  it('a second since while a replay runs is answered recovered:false (never a silent skip)', async () => {
    const server = await startServer({ eventLog: new LaggyLog() });
    for (let i = 0; i < 300; i++) await server.publish('alert', { message: `h${i}` });
    const c = await connect(server);
    c.send({ type: 'subscribe', data: { topics: ['alerts'], since: { epoch: server.epoch, seq: 0 } }, request_id: 'one' });
    c.send({ type: 'subscribe', data: { topics: ['executions'], since: { epoch: server.epoch, seq: 0 } }, request_id: 'two' });
    const first = await c.waitFor((f) => f.request_id === 'one');
    const second = await c.waitFor((f) => f.request_id === 'two');
    expect(first.data.recovered).toBe(true);
    expect(second.data.recovered).toBe(false);
    await c.waitFor((f) => f.seq === 300);
    expect(seqs(c)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });

  it('publish() refuses data JSON cannot hold (a BigInt): nothing appended, no seq consumed, resume unaffected', async () => {
    const server = await startServer();
    await server.publish('alert', { message: 'ok' });
    // passes the loose schema; JSON.stringify throws
    await expect(server.publish('alert', { message: 'bad', big: 10n } as never)).rejects.toMatchObject({ name: 'InvalidEventError', code: 'INVALID_EVENT' });
    await server.publish('alert', { message: 'ok2' });
    const c = await connect(server);
    c.send({ type: 'subscribe', data: { topics: ['alerts'], since: { epoch: server.epoch, seq: 0 } } });
    await c.waitFor((f) => f.seq === 2);
    expect(c.frames.filter((f) => f.seq !== undefined).map((f) => [f.seq, f.data.message])).toEqual([[1, 'ok'], [2, 'ok2']]);
  });

  it('the log keeps its own copy: mutating the published object afterwards changes nothing replayed', async () => {
    const server = await startServer();
    const data = { message: 'original', level: 'info' };
    await server.publish('alert', data);
    data.message = 'mutated';
    const c = await connect(server);
    c.send({ type: 'subscribe', data: { topics: ['alerts'], since: { epoch: server.epoch, seq: 0 } } });
    expect((await c.waitFor((f) => f.seq === 1)).data.message).toBe('original');
  });

  it('a since beyond the last seq of this epoch is not covered', async () => {
    const server = await startServer();
    await publishMixed(server, 3);
    const c = await connect(server);
    const sub = await c.request({ type: 'subscribe', data: { topics: ['all'], since: { epoch: server.epoch, seq: 50 } } }, 'subscribed');
    expect(sub.data.recovered).toBe(false);
    await server.publish('alert', SAMPLE.alert());
    await c.waitFor((f) => f.seq === 4);
  });
});

describe('replay pages bounded by bytes', () => {
  it('fully replays 1500 events of 20 KB to a reader paused 1.5 s (not closed as a slow consumer)', async () => {
    const server = await startServer({ historySize: 2000 });
    const big = 'x'.repeat(20_000);
    for (let i = 1; i <= 1500; i++) await server.publish('alert', { message: `${i}:${big}` });
    const c = await connect(server);
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    c.send({ type: 'subscribe', data: { topics: ['alerts'], since: { epoch: server.epoch, seq: 0 } } });
    socket.pause(); // the reader stops reading: the server's writes back up
    await new Promise((r) => setTimeout(r, 1500));
    socket.resume();
    await c.waitFor((f) => f.seq === 1500, 20_000);
    const seqs = c.frames.filter((f) => f.seq !== undefined).map((f) => f.seq);
    expect(seqs).toEqual(Array.from({ length: 1500 }, (_, i) => i + 1));
    expect(c.frames.some((f) => f.type === 'error')).toBe(false);
  }, 30_000);
});
