/** Test helpers: a recording WebSocket client, a server factory with cleanup, wait-for helpers. */
import { afterEach } from 'vitest';
import WebSocket from 'ws';
import { SigmaxServer, type SigmaxServerOptions } from '../../src/server/index.js';
import { waitFor } from '../helpers/wait.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Frame = { type: string; data?: any; timestamp?: string; connection_id?: string | null; request_id?: string; topic?: string; seq?: number; [k: string]: unknown };

/** Polls `check` until it returns a truthy value (bounded in time). */
export function waitUntil<T>(check: () => T | Promise<T>, timeoutMs = 3000, what = 'condition'): Promise<NonNullable<T>> {
  return waitFor(check, what, timeoutMs);
}

/** A WebSocket client that records every frame and lets tests wait for frames. */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly raw: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #consumed = new Set<number>();
  #waiters = new Set<() => void>();
  closeInfo: { code: number; reason: string } | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '<binary>' : data.toString();
      this.raw.push(text);
      try {
        this.frames.push(JSON.parse(text) as Frame);
      } catch {
        this.frames.push({ type: '<unparseable>', data: text });
      }
      for (const w of [...this.#waiters]) w();
    });
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        for (const w of [...this.#waiters]) w();
      }),
    );
  }

  /** Opens a client; resolves once the socket is open. */
  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return client;
  }

  /** Opens a client and consumes its `connected` and initial `system_status`. */
  static async ready(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const c = await TestClient.open(url, options);
    await c.next('connected');
    await c.next('system_status');
    return c;
  }

  send(msg: object | string): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Sends a request and waits for the next frame of `replyType`. */
  async request(msg: object, replyType: string, timeoutMs = 2000): Promise<Frame> {
    this.send(msg);
    return this.next(replyType, timeoutMs);
  }

  /** The first not-yet-consumed frame of `type` (waits for it); marks it consumed. */
  next(type: string, timeoutMs = 2000): Promise<Frame> {
    return this.waitFor((f) => f.type === type, timeoutMs, `a '${type}' frame`);
  }

  /** The first not-yet-consumed frame matching `pred` (waits for it); marks it consumed. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 2000, what = 'a matching frame'): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = 0; i < this.frames.length; i++) {
          if (!this.#consumed.has(i) && pred(this.frames[i]!)) {
            this.#consumed.add(i);
            done();
            resolve(this.frames[i]!);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; got: ${this.raw.slice(-5).join(' | ')}; close: ${JSON.stringify(this.closeInfo)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Unconsumed frames of `type` received so far (does not consume). */
  all(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  /** Published events (frames with a seq) received so far. */
  events(): Frame[] {
    return this.frames.filter((f) => typeof f.seq === 'number');
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 1000))]);
    this.ws.terminate();
  }
}

const servers = new Set<SigmaxServer>();
const clients = new Set<TestClient>();

/** Starts a server on a free port; it is closed after the test. */
export async function startServer(options: SigmaxServerOptions = {}): Promise<SigmaxServer> {
  const server = new SigmaxServer({ port: 0, host: '127.0.0.1', ...options });
  servers.add(server);
  await server.listen();
  return server;
}

/** Opens a ready client (connected + system_status consumed); closed after the test. */
export async function connect(server: SigmaxServer | string, options: WebSocket.ClientOptions = {}, query = ''): Promise<TestClient> {
  const url = (typeof server === 'string' ? server : server.url) + query;
  const c = await TestClient.ready(url, options);
  clients.add(c);
  return c;
}

/** Opens a client without consuming anything; closed after the test. */
export async function open(server: SigmaxServer, options: WebSocket.ClientOptions = {}, query = ''): Promise<TestClient> {
  const c = await TestClient.open(server.url + query, options);
  clients.add(c);
  return c;
}

/** Base HTTP URL of a server. */
export function httpUrl(server: SigmaxServer, path: string): string {
  return `http://127.0.0.1:${server.port}${path}`;
}

afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
  await Promise.all([...servers].map((s) => s.close()));
  servers.clear();
});

/** Sample data of each publishable event type. */
export const SAMPLE = {
  trade: (symbol = 'BTC/USDT', n = 1) => ({ proposal_id: `p${n}`, symbol, action: 'buy', size: 1, filled_price: 100, order_id: `o${n}`, status: 'filled' }),
  proposal: (symbol = 'BTC/USDT', n = 1) => ({ proposal_id: `p${n}`, symbol, action: 'buy', size: 1, reason: 'test' }),
  analysis: (symbol = 'BTC/USDT') => ({ symbol, decision: 'buy', confidence: 0.7, bull_score: 0.8, bear_score: 0.2, reasoning: 'test' }),
  market: (symbols = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT']) => symbols.map((symbol, i) => ({ symbol, price: 100 + i, volume_24h: 1000, change_24h: 1 })),
  portfolio: () => ({ total_value: 10, available_cash: 5, positions: [{ symbol: 'BTC/USDT', size: 1 }], total_pnl: 1, total_pnl_percent: 10 }),
  health: () => ({ cpu_percent: 1, memory_percent: 2, disk_percent: 3, process_count: 4 }),
  alert: (symbol = 'BTC/USDT') => ({ message: 'hi', level: 'info', symbol }),
};
