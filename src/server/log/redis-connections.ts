/**
 * The three Redis connections of the event log and their health:
 * `cmd` (scripts, reads), `reader` (the blocking `XREAD` loop) and `sub` (the legacy
 * pub/sub feed). Each reconnects by itself with capped, jittered backoff; every
 * `'error'` is handled here, so none is ever unhandled.
 */
import { createClient } from 'redis';

/** Diagnostics sink (same shape as the server's `Logger`). */
export interface LogSink {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

export const SILENT: LogSink = { debug() {}, info() {}, warn() {}, error() {} };

function makeClient(url: string, maxDelay: number, connectTimeout: number, offlineQueue: boolean) {
  return createClient({
    url,
    RESP: 2,
    disableOfflineQueue: !offlineQueue,
    socket: {
      connectTimeout,
      // Full jitter over a capped exponential: 100 ms, 200 ms, … up to maxDelay.
      reconnectStrategy: (retries: number) => Math.round(Math.random() * Math.min(100 * 2 ** retries, maxDelay)),
    },
  });
}
export type RedisClient = ReturnType<typeof makeClient>;

export interface ConnectionOptions {
  url: string;
  reconnectMaxDelay: number;
  connectTimeout: number;
  logger: LogSink;
}

export class RedisConnections {
  readonly cmd: RedisClient;
  readonly reader: RedisClient;
  /** Keeps an offline queue so its subscription is sent once it connects. */
  readonly sub: RedisClient;
  readonly #logger: LogSink;
  readonly #waiters = new Set<() => void>();
  #down = false;
  #closed = false;

  constructor(options: ConnectionOptions) {
    const { url, reconnectMaxDelay, connectTimeout } = options;
    this.#logger = options.logger;
    this.cmd = makeClient(url, reconnectMaxDelay, connectTimeout, false);
    this.reader = makeClient(url, reconnectMaxDelay, connectTimeout, false);
    this.sub = makeClient(url, reconnectMaxDelay, connectTimeout, true);
    for (const [name, client] of [['cmd', this.cmd], ['reader', this.reader], ['sub', this.sub]] as const) {
      client.on('error', (err: unknown) => this.#onError(name, err));
      client.on('ready', () => this.#onReady());
    }
  }

  /** Whether the command and reader connections are both ready. */
  get ready(): boolean {
    return !this.#closed && this.cmd.isReady && this.reader.isReady;
  }

  /**
   * Starts connecting all three. Resolves `true` once `cmd` and `reader` are ready, or `false`
   * at the first connection error or after `timeoutMs` (they keep retrying in the background).
   */
  connect(timeoutMs: number): Promise<boolean> {
    for (const client of [this.cmd, this.reader, this.sub]) {
      client.connect().catch(() => {
        /* reported through 'error'; a close() during connect also lands here */
      });
    }
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.cmd.off('error', fail);
        this.#waiters.delete(check);
        resolve(ok);
      };
      const fail = () => done(false);
      const check = () => {
        if (this.ready || this.#closed) done(this.ready);
      };
      const timer = setTimeout(fail, timeoutMs);
      this.cmd.on('error', fail);
      this.#waiters.add(check);
      check();
    });
  }

  /** Resolves when `cmd` and `reader` are ready, after `delayMs` at the earliest, or at close. */
  whenReady(delayMs = 0): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        if (this.#closed || (timer === undefined && this.ready)) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve();
        }
      };
      this.#waiters.add(check);
      if (delayMs > 0) {
        timer = setTimeout(() => {
          timer = undefined;
          check();
        }, delayMs);
      }
      check();
    });
  }

  /** Resolves `true` once `cmd` is ready, `false` after `timeoutMs` or at close. */
  whenCmdReady(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (expired = false) => {
        if (this.#closed || expired || this.cmd.isReady) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve(!this.#closed && this.cmd.isReady);
        }
      };
      const timer = setTimeout(() => check(true), timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Destroys the three connections (pending commands reject, the blocking read ends). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const wake of [...this.#waiters]) wake();
    const cmd = this.cmd;
    if (cmd.isReady) {
      // Let in-flight appends finish, bounded.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([cmd.close().catch(() => {}), new Promise((r) => (timer = setTimeout(r, 1000)))]);
      clearTimeout(timer);
    }
    for (const client of [cmd, this.reader, this.sub]) client.destroy();
  }

  #onReady(): void {
    if (this.#down && this.ready) {
      this.#down = false;
      this.#logger.info('Redis connection restored');
    }
    for (const wake of [...this.#waiters]) wake();
  }

  #onError(name: string, err: unknown): void {
    if (this.#closed) return;
    const message = err instanceof Error ? err.message : String(err);
    if (!this.#down) {
      this.#down = true;
      this.#logger.warn(`Redis connection lost (${name}): ${message}; reconnecting`);
    } else {
      this.#logger.debug(`Redis ${name}: ${message}`);
    }
  }
}
