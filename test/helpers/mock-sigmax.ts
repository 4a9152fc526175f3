/**
 * An in-process SIGMAX server on mock-socket, for unit tests with fake timers. Speaks Part A, or Part A + B
 * (capabilities, request_id echo, seq/epoch, resume answers). Records every frame the client sends.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { Server, WebSocket as MockWebSocket, type Client } from 'mock-socket';
import type { SigmaxWebSocketClient, WebSocketConstructor } from '../../src/index.js';

let n = 0;

export interface MockSigmaxOptions {
  /** Speak only Part A: no protocol/features/epoch, no request_id echo, no topic/seq. */
  partA?: boolean;
  /** Epoch announced in `connected`. @default 'e1' */
  epoch?: string;
  /** Answer of `subscribe` with `since`. @default true */
  recovered?: boolean;
  /** Do not answer requests (but still send `connected`). */
  mute?: boolean;
  /** Do not send `connected` at all. */
  silent?: boolean;
  /** Refuse new connections: send this error, then close with `close`. */
  refuse?: { code: string; close: number };
  /** Refuse every `subscribe` with an `error` of this code (echoing its `request_id`). */
  refuseSubscribe?: string;
}

export interface Received {
  socket: number;
  frame: { type: string; data?: Record<string, unknown>; request_id?: string };
}

/** The mock-socket WebSocket, typed for the client's `WebSocket` option. */
export const MockWS = MockWebSocket as unknown as WebSocketConstructor;

/** Fake timers in every test of the file; `cleanup` runs after each test, before real timers come back. */
export function useFakeTime(cleanup: () => unknown): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    await cleanup();
    vi.useRealTimers();
  });
}

/** Advances fake time by `ms` and lets promises settle. */
export const tick = (ms = 20) => vi.advanceTimersByTimeAsync(ms);

/** Connects `client` to `server` under fake time; resolves once it is open. */
export async function connectTo(client: SigmaxWebSocketClient, server: MockSigmax): Promise<void> {
  const p = client.connect(server.url);
  await tick();
  await p;
}

export class MockSigmax {
  readonly url = `ws://mock-${++n}.test/api/ws`;
  server!: Server;
  readonly sockets: Client[] = [];
  readonly received: Received[] = [];
  seq = 0;
  opts: MockSigmaxOptions;

  constructor(opts: MockSigmaxOptions = {}) {
    this.opts = opts;
    this.start();
  }

  /** (Re)starts listening at `url` (after `stop()`: a server back up after a restart). */
  start(): void {
    this.server = new Server(this.url, { mock: false }); // leave globalThis.WebSocket alone
    this.server.on('connection', (socket) => {
      const idx = this.sockets.push(socket) - 1;
      const refuse = this.opts.refuse;
      if (refuse) {
        this.reply(socket, 'error', { error: `refused: ${refuse.code}`, code: refuse.code });
        socket.close({ code: refuse.close, reason: refuse.code, wasClean: true });
        return;
      }
      if (!this.opts.silent) {
        const b = this.opts.partA ? {} : { protocol: 3, features: ['request_id', 'exactly_once', 'resume', 'close_codes'], epoch: this.opts.epoch ?? 'e1' };
        this.reply(socket, 'connected', { message: 'hi', server_version: 'mock', connection_id: `c${idx}`, available_topics: [], ...b });
      }
      socket.on('message', (raw) => {
        const frame = JSON.parse(String(raw)) as Received['frame'];
        this.received.push({ socket: idx, frame });
        if (!this.opts.mute) this.answer(socket, frame);
      });
    });
  }

  /** Frames of a type the client sent. */
  sent(type: string): Received['frame'][] {
    return this.received.filter((r) => r.frame.type === type).map((r) => r.frame);
  }

  get last(): Client {
    const s = this.sockets[this.sockets.length - 1];
    if (!s) throw new Error('no socket yet');
    return s;
  }

  reply(socket: Client, type: string, data: unknown, request_id?: string): void {
    const env: Record<string, unknown> = { type, data, timestamp: new Date().toISOString(), connection_id: `c${this.sockets.indexOf(socket)}` };
    if (request_id && !this.opts.partA) env.request_id = request_id;
    socket.send(JSON.stringify(env));
  }

  answer(socket: Client, f: Received['frame']): void {
    const id = f.request_id;
    const d = (f.data ?? {}) as { topics?: string[]; symbols?: string[]; since?: unknown; command?: string };
    switch (f.type) {
      case 'subscribe':
      case 'unsubscribe': {
        if (f.type === 'subscribe' && this.opts.refuseSubscribe) {
          return this.reply(socket, 'error', { error: 'refused', code: this.opts.refuseSubscribe }, id);
        }
        const res: Record<string, unknown> = { topics: d.topics ?? [], symbols: d.symbols ?? [], message: 'ok' };
        if (d.since && !this.opts.partA) res.recovered = this.opts.recovered ?? true;
        return this.reply(socket, f.type === 'subscribe' ? 'subscribed' : 'unsubscribed', res, id);
      }
      case 'ping':
        return this.reply(socket, 'pong', { message: 'pong' }, id);
      case 'get_subscriptions':
        return this.reply(socket, 'system_status', { subscriptions: ['all'], count: 1 }, id);
      case 'command':
        if (d.command === 'get_status') return this.reply(socket, 'system_status', { running: true }, id);
        if (d.command === 'get_portfolio') return this.reply(socket, 'portfolio_update', { total_value: 1, available_cash: 1, positions: [], total_pnl: 0, total_pnl_percent: 0 }, id);
        if (d.command === 'get_health') return this.reply(socket, 'health_update', { cpu_percent: 1, memory_percent: 1, disk_percent: 1, process_count: 1 }, id);
        return this.reply(socket, 'error', { error: `Unknown command: ${d.command}`, code: 'UNKNOWN_COMMAND' }, id);
    }
  }

  /** Sends a published `trade_executed` (with topic/seq unless Part A) to the last socket. */
  trade(seq = ++this.seq, socket: Client = this.last): void {
    const env: Record<string, unknown> = {
      type: 'trade_executed',
      data: { proposal_id: `p${seq}`, symbol: 'BTC/USDT', action: 'buy', size: 1, filled_price: 1, order_id: `o${seq}`, status: 'filled' },
      timestamp: new Date().toISOString(),
    };
    if (!this.opts.partA) Object.assign(env, { topic: 'executions', seq });
    socket.send(JSON.stringify(env));
  }

  /** Closes the last socket from the server side. */
  kick(code: number, reason = '', socket: Client = this.last): void {
    socket.close({ code, reason, wasClean: true });
  }

  stop(): void {
    this.server.stop();
  }
}
