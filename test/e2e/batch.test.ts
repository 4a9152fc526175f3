/** Batched frames (PROTOCOL.md Part B 7) end to end: our client against the reference server, over real sockets. */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SigmaxEvent, WebSocketConstructor } from '../../src/index.js';
import type { SigmaxServer } from '../../src/server/index.js';
import { newClient, startProxy, startServer, trade, useHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

useHarness();

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** A client that counts the frames carrying `trade_executed` events it receives (pings etc. are not counted). */
async function subscribed(server: SigmaxServer, options: Parameters<typeof newClient>[0] = {}) {
  let frames = 0;
  class CountingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      this.on('message', (data) => {
        if (String(data).includes('"trade_executed"')) frames++;
      });
    }
  }
  const client = newClient({ ...options, WebSocket: CountingWebSocket as unknown as WebSocketConstructor });
  const seqs: number[] = [];
  client.on('trade_executed', (e) => seqs.push(e.seq!));
  await client.subscribe({ topics: ['executions'] });
  await client.connect(server.url);
  /** Event frames received while `fn` ran and until `n` events had arrived. */
  const framesFor = async (fn: () => Promise<unknown>, n: number): Promise<number> => {
    const before = frames;
    const had = seqs.length;
    await fn();
    await waitFor(() => seqs.length === had + n, `${n} events`);
    return frames - before;
  };
  return { client, seqs, framesFor };
}

const burst = (server: SigmaxServer, from: number, n: number) =>
  Promise.all(Array.from({ length: n }, (_, i) => server.publish('trade_executed', trade(from + i))));

describe('batched frames, client <-> reference server', () => {
  it('gets a burst published in one turn in one frame; handlers and listen() see each event once, in order', async () => {
    const server = await startServer();
    const { client, seqs, framesFor } = await subscribed(server);
    expect(client.stats().state).toBe('open');
    const listened: number[] = [];
    const reading = (async () => {
      for await (const e of client.listen()) if ((listened.push((e as SigmaxEvent).seq!), listened.length === 50)) break;
    })();
    const frames = await framesFor(() => burst(server, 1, 50), 50);
    expect(frames).toBe(1);
    await reading;
    const expected = Array.from({ length: 50 }, (_, i) => i + 1);
    expect(seqs).toEqual(expected);
    expect(listened).toEqual(expected);
    expect(client.stats()).toMatchObject({ invalidFrames: 0, duplicatesDropped: 0 });
  });

  it('with batch: false gets one frame per event', async () => {
    const server = await startServer();
    const { seqs, framesFor } = await subscribed(server, { batch: false });
    expect(await framesFor(() => burst(server, 1, 20), 20)).toBe(20);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('with maxDelayMs lets the server gather events of several turns into one frame', async () => {
    const server = await startServer();
    const { framesFor } = await subscribed(server, { batch: { maxDelayMs: 50 } });
    const twoTurns = async () => {
      await server.publish('trade_executed', trade(1));
      await nextTurn();
      await server.publish('trade_executed', trade(2));
    };
    expect(await framesFor(twoTurns, 2)).toBe(1);
    const plain = await startServer();
    const other = await subscribed(plain);
    const twoTurnsPlain = async () => {
      await plain.publish('trade_executed', trade(1));
      await nextTurn();
      await plain.publish('trade_executed', trade(2));
    };
    expect(await other.framesFor(twoTurnsPlain, 2)).toBe(2);
  });

  it('resumes across cuts with batched replay: every event exactly once, in order', async () => {
    const server = await startServer({ historySize: 5000 });
    const proxy = await startProxy(server.port);
    const client = newClient({ minReconnectDelay: 100, maxReconnectDelay: 150 });
    const seqs: number[] = [];
    client.on('trade_executed', (e) => seqs.push(e.seq!));
    await client.subscribe({ topics: ['executions'] });
    await client.connect(`ws://127.0.0.1:${proxy.port}/api/ws`);
    let next = 1;
    for (let cut = 0; cut < 3; cut++) {
      await burst(server, next, 30);
      next += 30;
      await waitFor(() => seqs.length === next - 1, 'live events');
      proxy.cutAll();
      await waitFor(() => client.state === 'reconnecting', 'the loss');
      const before = server.stats().total_messages_sent;
      await burst(server, next, 250); // published while the client is away: replayed in pages
      next += 250;
      await waitFor(() => seqs.length === next - 1, `replayed events (have ${seqs.length})`, 10_000);
      // connected + system_status + subscribed + at most a few batched pages, far fewer than 250 frames.
      expect(server.stats().total_messages_sent - before).toBeLessThan(15);
    }
    expect(seqs).toEqual(Array.from({ length: next - 1 }, (_, i) => i + 1));
    expect(client.stats().duplicatesDropped).toBe(0);
  }, 30_000);

  it('works against a Part A server, which ignores batch=1 (one event per frame)', async () => {
    const server = await startServer({ partAOnly: true });
    const { seqs, framesFor } = await subscribed(server);
    expect(await framesFor(() => burst(server, 1, 10), 10)).toBe(10);
    expect(seqs).toHaveLength(10);
    expect(seqs.every((s) => s === undefined)).toBe(true);
  });
});
