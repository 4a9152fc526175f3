/**
 * The three Redis connections of the event log and their health:
 * `cmd` (scripts, reads), `reader` (the blocking `XREAD` loop) and `sub` (the legacy
 * pub/sub feed). Each reconnects by itself with capped, jittered backoff when its socket
 * fails; `replace()` starts all three afresh when Redis stopped answering on them without
 * the socket failing. Every `'error'` is handled here, so none is ever unhandled.
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

type Name = 'cmd' | 'reader' | 'sub';

export class RedisConnections {
  readonly #options: ConnectionOptions;
  readonly #clients: Record<Name, RedisClient>;
  /** The legacy feed's subscription, made again on every new `sub` connection. */
  #subscription: { channel: string; listener: (message: string) => void } | undefined;
  readonly #logger: LogSink;
  readonly #waiters = new Set<() => void>();
  #down = false;
  #closed = false;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#clients = { cmd: this.#make('cmd'), reader: this.#make('reader'), sub: this.#make('sub') };
  }

  /** Scripts and reads. */
  get cmd(): RedisClient {
    return this.#clients.cmd;
  }

  /** The blocking `XREAD` loop. */
  get reader(): RedisClient {
    return this.#clients.reader;
  }

  /** The legacy pub/sub feed; it keeps an offline queue so its subscription is sent once it connects. */
  get sub(): RedisClient {
    return this.#clients.sub;
  }

  #make(name: Name): RedisClient {
    const { url, reconnectMaxDelay, connectTimeout } = this.#options;
    const client = makeClient(url, reconnectMaxDelay, connectTimeout, name === 'sub');
    // Events of a connection that was replaced (see `replace()`) are ignored.
    client.on('error', (err: unknown) => client === this.#clients?.[name] && this.#onError(name, err));
    client.on('ready', () => client === this.#clients?.[name] && this.#onReady());
    return client;
  }

  /** Subscribes `listener` to `channel` on `sub`, and again on each connection that replaces it. */
  subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    this.#subscription = { channel, listener };
    return this.sub.subscribe(channel, listener);
  }

  /**
   * Replaces the three connections by new ones, for when Redis stopped answering on them and TCP has not noticed
   * (a host gone without a reset: its replies would never come). Commands waiting on the old ones reject with
   * `DisconnectsClientError` (outcome unknown: they were sent).
   */
  replace(why: string): void {
    if (this.#closed) return;
    if (!this.#down) {
      this.#down = true;
      this.#logger.warn(`Redis connection lost (${why}); reconnecting`);
    }
    for (const name of ['cmd', 'reader', 'sub'] as const) {
      const old = this.#clients[name];
      const client = this.#make(name);
      this.#clients[name] = client;
      old.destroy();
      client.connect().catch(() => {
        /* reported through 'error'; a close() during connect also lands here */
      });
      const sub = this.#subscription;
      if (name === 'sub' && sub) {
        client.subscribe(sub.channel, sub.listener).catch((err: unknown) => {
          if (!this.#closed) this.#logger.warn(`Redis: subscribing to ${sub.channel} failed: ${String(err)}`);
        });
      }
    }
    for (const wake of [...this.#waiters]) wake();
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
    for (const client of Object.values(this.#clients)) {
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
    for (const client of Object.values(this.#clients)) client.destroy();
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
