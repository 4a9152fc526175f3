/** Issue 9: slow consumers hear why they are closed; a stalled peer is terminated; the client resumes without loss. */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SigmaxWebSocketClient, type SigmaxEvent } from '../../src/index.js';
import { connect, startServer, waitUntil, type TestClient } from './helpers.js';

function rawSocket(ws: unknown): Socket {
  return (ws as { _socket: Socket })._socket;
}

const big = 'x'.repeat(16 * 1024);

/** Publishes 16 KB alerts until the server marks a slow consumer (bounded). */
async function publishUntilSlow(server: Awaited<ReturnType<typeof startServer>>, from = 0): Promise<number> {
  let n = from;
  while (server.stats().slow_consumers_lifetime === 0 && n < from + 4000) {
    await server.publish('alert', { message: big, level: 'info', n: n++ } as never);
  }
  expect(server.stats().slow_consumers_lifetime).toBe(1);
  return n;
}

/** Reads the paused socket slowly: 64 KB every 50 ms (≈ 1.3 MB/s) until it closes. */
function readSlowly(socket: Socket): () => void {
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    socket.read(64 * 1024);
  }, 50);
  return () => clearInterval(timer);
}

describe('slow consumers', () => {
  it('a slow reader (reads, but slower than the backlog) gets SLOW_CONSUMER and close 1013, not a cut', async () => {
    const server = await startServer({ maxBufferedBytes: 64 * 1024 });
    const slow: TestClient = await connect(server);
    await slow.request({ type: 'subscribe', data: { topics: ['alerts'] } }, 'subscribed');
    const socket = rawSocket(slow.ws);
    socket.pause();
    await publishUntilSlow(server);
    const t0 = Date.now();
    const stop = readSlowly(socket);
    try {
      const closed = await slow.closed;
      expect(closed.code).toBe(1013);
      expect(slow.frames.at(-1)).toMatchObject({ type: 'error', data: { code: 'SLOW_CONSUMER' } });
      // It really was slow: reading the backlog took longer than a fixed 1 s grace would allow.
      expect(Date.now() - t0).toBeGreaterThan(1000);
    } finally {
      stop();
    }
    await waitUntil(() => server.stats().active_connections === 0);
  }, 40_000);

  it('a stalled reader (reads nothing at all) is terminated', async () => {
    const server = await startServer({ maxBufferedBytes: 64 * 1024 });
    const stalled = await connect(server);
    await stalled.request({ type: 'subscribe', data: { topics: ['alerts'] } }, 'subscribed');
    rawSocket(stalled.ws).pause();
    await publishUntilSlow(server);
    await waitUntil(() => server.stats().active_connections === 0, 8000, 'the stalled reader to be terminated');
    expect(server.stats().total_disconnections_lifetime).toBe(1);
  });

  it.each(['slow', 'stalled'] as const)('the SDK client resumes without loss after being closed as a %s consumer', async (kind) => {
    const server = await startServer({ maxBufferedBytes: 64 * 1024 });
    const sockets: WebSocket[] = [];
    class SpyWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
    }
    const client = new SigmaxWebSocketClient({ url: server.url, WebSocket: SpyWebSocket as never, minReconnectDelay: 50, maxReconnectDelay: 100, pingInterval: 0 });
    const seen: number[] = [];
    client.on('alert', (e: SigmaxEvent<'alert'>) => seen.push(e.seq!));
    try {
      await client.subscribe({ topics: ['alerts'] });
      await client.connect();
      await server.publish('alert', { message: 'first', level: 'info' });
      await waitUntil(() => seen.length === 1);
      const socket = rawSocket(sockets[0]);
      socket.pause();
      let n = await publishUntilSlow(server);
      let stop = () => undefined as void;
      if (kind === 'slow') stop = readSlowly(socket);
      else {
        // A peer that reads nothing is terminated; once it reads again, it sees the loss and reconnects.
        await waitUntil(() => server.stats().active_connections === 0, 8000, 'the stalled client to be terminated');
        socket.resume();
      }
      await waitUntil(() => sockets.length === 2 && client.isConnected(), 30_000, 'the client to reconnect');
      stop();
      // More events after the reconnect; every one, before and after, arrives exactly once, in order.
      for (let i = 0; i < 5; i++) await server.publish('alert', { message: 'after', level: 'info', n: n++ } as never);
      const last = server.stats().last_seq;
      await waitUntil(() => seen.at(-1) === last, 10_000, 'every event');
      expect(seen).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    } finally {
      await client.disconnect();
    }
  }, 60_000);
});
