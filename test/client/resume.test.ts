import { describe, expect, it, vi } from 'vitest';
import { GapError, SigmaxWebSocketClient, type GapInfo, type GapMarker, type SigmaxEvent } from '../../src/index.js';
import { MockSigmax, MockWS, type MockSigmaxOptions, tick, connectTo, useFakeTime } from '../helpers/mock-sigmax.js';

let server: MockSigmax;
let client: SigmaxWebSocketClient;

async function start(opts: MockSigmaxOptions = {}, resume = true): Promise<void> {
  server = new MockSigmax(opts);
  client = new SigmaxWebSocketClient({ WebSocket: MockWS, pingInterval: 0, minReconnectDelay: 100, resume });
  await client.subscribe({ topics: ['executions'] });
  await connectTo(client, server);
}

async function drain<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

useFakeTime(async () => {
  await client?.disconnect();
  server?.stop();
});

describe('resume bookkeeping', () => {
  it('tracks epoch and last seq, and sends since in the restoring subscribe', async () => {
    await start();
    server.trade(1);
    server.trade(2);
    await tick();
    expect(client.position).toEqual({ epoch: 'e1', seq: 2 });
    server.kick(1001);
    await tick(1000);
    expect(server.sent('subscribe').at(-1)?.data).toEqual({ topics: ['executions'], symbols: [], since: { epoch: 'e1', seq: 2 } });
    expect(client.state).toBe('open');
  });

  it('drops a duplicate by seq, defensively', async () => {
    await start();
    const got: number[] = [];
    client.on('trade_executed', (e) => got.push(e.seq ?? -1));
    for (const s of [1, 2, 2, 1, 3]) server.trade(s);
    await tick();
    expect(got).toEqual([1, 2, 3]);
    expect(client.stats().duplicatesDropped).toBe(2);
  });

  it('on recovered:false emits gap, yields a typed gap marker, and starts the new epoch afresh', async () => {
    await start();
    const gaps: GapInfo[] = [];
    client.on('gap', (g) => gaps.push(g));
    const it = client.listen({ types: ['trade_executed'] });
    server.trade(7);
    await tick();
    server.opts.epoch = 'e2';
    server.opts.recovered = false;
    server.kick(1001);
    await tick(1000);
    server.trade(1);
    await tick();
    expect(gaps).toEqual([{ epoch: 'e1', seq: 7, newEpoch: 'e2', reason: 'epoch_changed' }]);
    const items = await drain<SigmaxEvent<'trade_executed'> | GapMarker>(it, 3);
    expect(items.map((e) => (e.type === 'gap' ? `gap ${e.seq}` : `trade ${e.seq}`))).toEqual(['trade 7', 'gap 7', 'trade 1']);
    expect(client.position).toEqual({ epoch: 'e2', seq: 1 });
  });

  it('a resume not answered in time is made again on a new connection; not answered twice, it is a gap that keeps a position', async () => {
    server = new MockSigmax();
    client = new SigmaxWebSocketClient({ WebSocket: MockWS, pingInterval: 0, minReconnectDelay: 100, maxReconnectDelay: 100, commandTimeout: 1000 });
    await client.subscribe({ topics: ['executions'] });
    await connectTo(client, server);
    const gaps: { gap: GapInfo; position: unknown }[] = [];
    const closes: number[] = [];
    client.on('gap', (g) => gaps.push({ gap: g, position: client.position }));
    client.on('close', (c) => closes.push(c.code));
    client.on('error', () => {});
    server.trade(5);
    await tick();
    // The server stops answering (a resume waiting for a history it cannot read), and the connection drops.
    server.opts.mute = true;
    server.kick(1001);
    await tick(1200); // reconnect, resume from seq 5, no answer within 1 s
    expect(gaps).toEqual([]);
    expect(closes).toEqual([1001, 1006]); // dropped, to ask again
    await tick(1300); // the same resume, not answered again
    expect(gaps).toEqual([{ gap: { epoch: 'e1', seq: 5, newEpoch: 'e1', reason: 'history_exceeded' }, position: { epoch: 'e1', seq: 5 } }]);
    expect(client.state).toBe('open');
    const sinces = server.sent('subscribe').map((f) => f.data?.since);
    expect(sinces.slice(1)).toEqual([{ epoch: 'e1', seq: 5 }, { epoch: 'e1', seq: 5 }]);
    // On a new epoch: the position kept is the start of that epoch (none of it was seen).
    server.opts.epoch = 'e2';
    server.kick(1001);
    await tick(1200);
    await tick(1300);
    expect(gaps.at(-1)).toEqual({ gap: { epoch: 'e1', seq: 5, newEpoch: 'e2', reason: 'epoch_changed' }, position: { epoch: 'e2', seq: 0 } });
  });

  it('reports history_exceeded when the epoch is the same but the server cannot recover', async () => {
    await start({ recovered: false });
    server.trade(3);
    await tick();
    const gaps: GapInfo[] = [];
    client.on('gap', (g) => gaps.push(g));
    server.kick(1001);
    await tick(1000);
    expect(gaps).toMatchObject([{ reason: 'history_exceeded', seq: 3 }]);
  });

  it("listen({ gap: 'throw' }) ends with a GapError instead", async () => {
    await start({ recovered: false });
    const it = client.listen({ gap: 'throw' });
    server.trade(3);
    await tick();
    server.kick(1001);
    await tick(1000);
    expect((await it.next()).value).toMatchObject({ seq: 3 });
    const err = await it.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GapError);
    expect(err).toMatchObject({ code: 'EVENTS_MISSED' });
  });

  it('raises no gap against a Part-A-only server and sends no since', async () => {
    await start({ partA: true });
    const gaps: GapInfo[] = [];
    client.on('gap', (g) => gaps.push(g));
    server.trade();
    await tick();
    expect(client.position).toBeUndefined();
    server.kick(1001);
    await tick(1000);
    expect(client.state).toBe('open');
    expect(server.sent('subscribe').at(-1)?.data).toEqual({ topics: ['executions'], symbols: [] });
    expect(gaps).toEqual([]);
  });

  it('sends no since when resume is turned off', async () => {
    await start({}, false);
    server.trade(1);
    await tick();
    server.kick(1001);
    await tick(1000);
    expect(server.sent('subscribe').at(-1)?.data).toEqual({ topics: ['executions'], symbols: [] });
  });
});

describe('position from the subscribed reply', () => {
  it('starts from a head seq carried by subscribed, so a client that saw no event yet can resume', async () => {
    await start();
    expect(client.position).toBeUndefined();
    server.opts.mute = true;
    const p = client.subscribe({ topics: ['alerts'] });
    await tick();
    const req = server.sent('subscribe').at(-1)!;
    server.reply(server.last, 'subscribed', { topics: ['alerts'], symbols: [], seq: 41 }, req.request_id);
    await tick();
    await p;
    expect(client.position).toEqual({ epoch: 'e1', seq: 41 });
    server.opts.mute = false;
    server.kick(1001);
    await tick(1000);
    expect(server.sent('subscribe').at(-1)?.data).toMatchObject({ since: { epoch: 'e1', seq: 41 } });
  });
});
