/** A small recording WebSocket client for the Redis integration tests. */
import WebSocket from 'ws';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Frame = { type: string; data?: any; timestamp?: string; topic?: string; seq?: number; [k: string]: unknown };

export class WsRecorder {
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  #waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.#wake();
    });
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
  }

  /** Connects and subscribes to `all` (optionally resuming from `since`); resolves with the client once `subscribed`. */
  static async subscribed(url: string, since?: { epoch: string; seq: number }, timeoutMs = 5000): Promise<WsRecorder> {
    const ws = new WebSocket(url);
    const c = new WsRecorder(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await c.waitFor((f) => f.type === 'connected');
    ws.send(JSON.stringify({ type: 'subscribe', data: since ? { topics: ['all'], since } : { topics: ['all'] } }));
    await c.waitFor((f) => f.type === 'subscribed', timeoutMs);
    return c;
  }

  get epoch(): string {
    return this.frames.find((f) => f.type === 'connected')?.data.epoch as string;
  }

  /** Published events received (frames with a seq). */
  events(type?: string): Frame[] {
    return this.frames.filter((f) => f.seq !== undefined && (type === undefined || f.type === type));
  }

  /** Waits until a frame matches `pred` (bounded). */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const f = this.frames.find(pred);
        if (f || this.closed) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          if (f) resolve(f);
          else reject(new Error(`connection closed (${this.closed?.code}) before the expected frame`));
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a frame`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Resolves with the close code once the server closes the connection. */
  async waitClosed(timeoutMs = 5000): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.closed) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
      this.#waiters.add(check);
      check();
    });
    return this.closed!.code;
  }

  close(): void {
    this.ws.terminate();
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}
