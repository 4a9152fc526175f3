/**
 * The event log shared by server instances through Redis.
 *
 * - Sequence + history: one Lua script per append does `HINCRBY P:log seq` and `XADD P:events`
 *   with the entry id `${seq}-0`, atomically, so the stream id is the seq (resume = `XRANGE` from
 *   a seq, no index) and the epoch in the same hash can never disagree with the seq.
 * - Delivery: every instance (the appending one too) runs one blocking `XREAD` loop from its last
 *   seq and hands entries to `onEvent`: one total order everywhere, exactly once per instance.
 * - Legacy feed: `P:broadcast` messages (SIGMAX 2.0 format) are validated and appended by every
 *   instance that hears them; `SET NX PX` on their hash inside the script lets one win.
 * - Outage: appends fall back to a local log (own epoch) so local clients keep receiving;
 *   when Redis returns, `onReset` has the server make clients resume (they get recovered:false).
 * Keys and scripts: `redis-scripts.ts`; connections: `redis-connections.ts`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ErrorReply } from 'redis';
import { EVENT_TOPIC } from '../../protocol/index.js';
import type { EventLog, HistoryRead, NewEvent, SequencedEvent } from './types.js';
import { RedisConnections, SILENT, type LogSink } from './redis-connections.js';
import { RedisLogStore } from './redis-store.js';
import { withTimeout } from './redis-scripts.js';
import { LocalFallbackLog } from './redis-local.js';
import { parseLegacyMessage } from './redis-legacy.js';
import { parseEntries, type RawEntry } from './redis-entries.js';

/** Why live delivery lost continuity (see {@link RedisEventLogOptions.onReset}). */
export type ResetReason =
  /** Back on the shared log after local fallback, or Redis holds another epoch (flushed, restarted). */
  | 'epoch_changed'
  /** This instance fell behind by more than the stream retains: events were skipped. */
  | 'gap';

/** Options of {@link RedisEventLog}. Durations in milliseconds. */
export interface RedisEventLogOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]` */
  url: string;
  /** Prefix of every key and channel: `P:log`, `P:events`, `P:ingest:*`, `P:broadcast`. @default 'sigmax' */
  keyPrefix?: string;
  /** Events retained for resume (`readAfter`); `0` keeps none. */
  historySize: number;
  /** How long events are retained for resume. */
  historyTtl: number;
  /** Diagnostics sink; silent without one. @default undefined */
  logger?: LogSink;
  /**
   * Called when the events handed to `onEvent` stop continuing the previous ones: back on the
   * shared log after the local fallback, Redis lost the log (new epoch), or events were skipped.
   * It runs before the first event after the break. Seqs and epochs that clients hold are void:
   * the server must make its clients reconnect and resume (e.g. close them with 1001), so they
   * get `recovered: false`. Entering the local fallback calls no reset: local seqs continue far
   * above the shared ones, so connected clients keep receiving; the reset comes when Redis returns.
   * @default undefined
   */
  onReset?: (epoch: string, reason: ResetReason) => void;
  /** An append that Redis does not answer within this time is delivered locally. @default 2000 */
  commandTimeout?: number;
  /** Cap of the reconnect backoff. @default 2000 */
  reconnectMaxDelay?: number;
  /** How long a legacy message is remembered to sequence it once across instances. @default 60000 */
  ingestDedupeTtl?: number;
}

/** Entries per `XREAD`; the block timeout bounds how late an epoch change is noticed. */
const READ_COUNT = 500;
const READ_BLOCK_MS = 1000;
/**
 * Local fallback seqs continue this far above the last shared seq. Clients connected before the
 * outage keep their (shared) epoch and keep receiving local events live, in order; after Redis
 * returns, their positions are then beyond the shared log's last seq, so `readAfter` answers
 * `epoch_mismatch` instead of wrongly claiming to cover them.
 */
const LOCAL_SEQ_OFFSET = 1_000_000_000;

type Mode = 'new' | 'shared' | 'local' | 'closed';

/**
 * {@link EventLog} on Redis. Invariants:
 * - `onEvent` is called from one place per mode: in `shared` mode only by the `XREAD` loop
 *   (also for this instance's own appends), so every instance sees one total order;
 *   in `local` mode only by `append`.
 * - Within one epoch, seqs handed to `onEvent` grow by one; any break calls `onReset` first.
 */
export class RedisEventLog implements EventLog {
  readonly #options: RedisEventLogOptions;
  readonly #logger: LogSink;
  readonly #conn: RedisConnections;
  readonly #store: RedisLogStore;
  #mode: Mode = 'new';
  #epoch = '';
  #lastSeq = 0;
  #local: LocalFallbackLog | undefined;
  #onEvent: (event: SequencedEvent) => void = () => {};
  #loop: Promise<void> | undefined;
  /** The blocking read is overdue: Redis accepts connections but does not answer. */
  #stalled = false;
  /** The epoch was checked since the reader last failed (status() waits for it after a reconnect). */
  #synced = false;

  constructor(options: RedisEventLogOptions) {
    if (typeof options?.url !== 'string' || options.url === '') {
      throw new TypeError(`RedisEventLog: url must be a non-empty string, got ${typeof options?.url}`);
    }
    for (const key of ['historySize', 'historyTtl'] as const) {
      const v = options[key];
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`RedisEventLog: ${key} must be a number >= 0, got ${String(v)}`);
    }
    this.#options = options;
    this.#logger = options.logger ?? SILENT;
    this.#store = new RedisLogStore({
      prefix: options.keyPrefix ?? 'sigmax',
      historySize: options.historySize,
      historyTtl: options.historyTtl,
      timeout: this.#timeout,
      ingestDedupeTtl: options.ingestDedupeTtl ?? 60_000,
      logger: this.#logger,
    });
    this.#conn = new RedisConnections({
      url: options.url,
      reconnectMaxDelay: options.reconnectMaxDelay ?? 2000,
      connectTimeout: 5000,
      logger: this.#logger,
    });
  }

  get #timeout(): number {
    return this.#options.commandTimeout ?? 2000;
  }

  get #closed(): boolean {
    return this.#mode === 'closed';
  }

  get epoch(): string {
    return this.#epoch;
  }

  /**
   * Connects and resolves once the log is usable: on the shared log when Redis answers,
   * otherwise (first connection attempt failed) in local fallback, reconnecting in the background.
   */
  async start(onEvent: (event: SequencedEvent) => void): Promise<void> {
    if (this.#mode !== 'new') throw new Error('RedisEventLog.start() may be called once');
    this.#onEvent = onEvent;
    const up = await this.#conn.connect(this.#timeout);
    const subscribed = this.#conn.sub
      .subscribe(this.#store.keys.channel, (message: string) => void this.#ingest(message))
      .catch((err: unknown) => {
        if (this.#mode !== 'closed') this.#logger.warn(`Redis: subscribing to ${this.#store.keys.channel} failed: ${String(err)}`);
      });
    if (up) {
      try {
        await this.#sync();
        // Legacy messages published once start() resolved are heard (bounded: a hung Redis).
        await withTimeout(subscribed, this.#timeout);
      } catch (err) {
        this.#logger.warn(`Redis: start: ${String(err)}`);
      }
    }
    if (this.#mode === 'new') this.#enterLocal();
    this.#loop = this.#run();
  }

  async append(event: NewEvent): Promise<void> {
    await this.#commit(event, null);
  }

  async readAfter(epoch: string, after: number, limit: number): Promise<HistoryRead> {
    if (this.#mode === 'local') {
      return this.#local!.readAfter(epoch, after, limit);
    }
    if (this.#mode !== 'shared' || !this.#conn.cmd.isReady) return { ok: false, reason: 'unavailable' };
    try {
      return await this.#store.read(this.#conn.cmd, epoch, after, limit);
    } catch (err) {
      this.#logger.warn(`Redis: history read failed: ${String(err)}`);
      return { ok: false, reason: 'unavailable' };
    }
  }

  status() {
    return {
      backend: 'redis' as const,
      connected: this.#mode === 'shared' && this.#synced && this.#conn.ready && !this.#stalled,
      epoch: this.#epoch,
      lastSeq: this.#lastSeq,
    };
  }

  /** Quits the connections (ending the blocking read); the process can then exit. Idempotent. */
  async close(): Promise<void> {
    if (this.#mode === 'closed') return;
    this.#mode = 'closed';
    this.#onEvent = () => {};
    await this.#conn.close();
    await this.#loop;
  }

  /** Sequences `event` in Redis (deduplicated by `dedupeKey` if given), else locally. */
  async #commit(event: NewEvent, dedupeKey: string | null): Promise<void> {
    if (this.#mode === 'closed') throw new Error('RedisEventLog is closed');
    if (this.#mode === 'new') throw new Error('RedisEventLog.start() has not been called');
    const topic = EVENT_TOPIC[event.type];
    if (await this.#commitShared(event, topic, dedupeKey)) return; // delivered by the XREAD loop
    if (this.#closed) throw new Error('RedisEventLog is closed');
    if (this.#mode !== 'local') this.#enterLocal();
    const sequenced = this.#local!.append({ ...event, topic });
    this.#lastSeq = sequenced.seq;
    this.#deliver(sequenced);
  }

  /**
   * Appends to the shared log; `false` when Redis cannot take it. A failure whose outcome is
   * unknown (connection lost, timeout) is retried once after the connection is back, with the
   * same append id, and the script skips the append if that id is already in the stream —
   * so a blip neither duplicates the event nor forces the local fallback.
   * Only the command connection matters: what is appended while the reader reconnects is
   * delivered when it is back (it resumes from `#lastSeq`).
   */
  async #commitShared(event: NewEvent, topic: string, dedupeKey: string | null): Promise<boolean> {
    const timeout = this.#timeout;
    const id = randomBytes(8).toString('hex');
    if (this.#mode !== 'shared') return false;
    // Serialised once, outside the retries: data that JSON cannot hold (a BigInt, nesting too deep) is
    // the caller's error, and must not be mistaken for an outage (that would force the local fallback).
    let data: string;
    try {
      data = JSON.stringify(event.data);
    } catch (err) {
      throw new TypeError(`RedisEventLog: ${event.type} data cannot be serialised as JSON (${String(err)})`);
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.#mode !== 'shared') return false;
      if (!this.#conn.cmd.isReady && !(await this.#conn.whenCmdReady(timeout))) return false;
      if (this.#mode !== 'shared') return false;
      try {
        const seq = await this.#store.append(this.#conn.cmd, event, topic, data, id, attempt > 0, dedupeKey);
        if (dedupeKey) this.#logger.debug(seq ? `Redis: legacy message sequenced as ${seq}` : 'Redis: legacy message already sequenced');
        return true;
      } catch (err) {
        if (this.#closed) return false;
        this.#logger.warn(`Redis: append failed (${String(err)})${attempt === 0 && !(err instanceof ErrorReply) ? '; retrying' : ''}`);
        if (err instanceof ErrorReply) return false; // Redis answered: not appended
      }
    }
    return false;
  }

  async #ingest(raw: string): Promise<void> {
    const parsed = parseLegacyMessage(raw);
    if (!parsed.ok) {
      this.#logger.warn(`Redis: ignored a message on ${this.#store.keys.channel}: ${parsed.reason}`);
      return;
    }
    const hash = createHash('sha1').update(raw).digest('hex');
    try {
      await this.#commit(parsed.event, `${this.#store.keys.ingest}${hash}`);
    } catch (err) {
      this.#logger.warn(`Redis: legacy message not sequenced: ${String(err)}`);
    }
  }

  /**
   * Switches to the local fallback. Coming from the shared log, local seqs continue (with a large
   * jump, {@link LOCAL_SEQ_OFFSET}) so that connected clients keep receiving events without a
   * reset; the break is reported when Redis returns (`onReset`), which is when it matters.
   */
  #enterLocal(): void {
    const base = this.#mode === 'shared' ? this.#lastSeq + LOCAL_SEQ_OFFSET : 0;
    this.#local = new LocalFallbackLog(this.#options.historySize, this.#options.historyTtl, base);
    this.#mode = 'local';
    this.#epoch = this.#local.epoch;
    this.#lastSeq = base;
    this.#logger.warn(`Redis unavailable: sequencing events locally under epoch ${this.#epoch}`);
  }

  #reset(reason: ResetReason): void {
    try {
      this.#options.onReset?.(this.#epoch, reason);
    } catch (err) {
      this.#logger.error(`RedisEventLog onReset threw: ${String(err)}`);
    }
  }

  #deliver(event: SequencedEvent): void {
    try {
      this.#onEvent(event);
    } catch (err) {
      this.#logger.error(`RedisEventLog onEvent threw: ${String(err)}`);
    }
  }

  /**
   * Reads the epoch (creating it if Redis lost it) and decides where delivery continues:
   * - at start: from the current end (`onEvent` receives events committed from now on);
   * - same epoch as the one followed: from `#lastSeq`, nothing skipped;
   * - another epoch while following the shared log (Redis flushed or restarted): from its first
   *   seq, so events committed in it before this instance noticed are not skipped;
   * - back from the local fallback: from the current end (what was committed meanwhile may be
   *   old; `onReset` has clients resume, and `readAfter` tells them what it covers).
   */
  async #sync(): Promise<void> {
    const { epoch, seq } = await this.#store.sync(this.#conn.cmd);
    if (this.#closed) return;
    const from = this.#mode;
    if (from === 'shared' && epoch === this.#epoch && seq >= this.#lastSeq) {
      this.#synced = true;
      return;
    }
    this.#mode = 'shared';
    this.#epoch = epoch;
    this.#lastSeq = from === 'shared' ? 0 : seq;
    this.#local = undefined;
    this.#synced = true;
    if (from === 'new') return;
    this.#logger.info(`Redis: on the shared log, epoch ${epoch}, delivering after seq ${this.#lastSeq}`);
    this.#reset('epoch_changed');
  }

  /** The one delivery loop: waits for Redis, syncs, reads the stream; backs off after errors. */
  async #run(): Promise<void> {
    let delay = 0;
    while (this.#mode !== 'closed') {
      await this.#conn.whenReady(delay);
      if (this.#closed) return;
      try {
        await this.#sync();
        delay = 0;
        await this.#readStream();
      } catch (err) {
        if (this.#closed) return;
        this.#synced = false;
        this.#logger.debug(`Redis reader: ${String(err)}`);
        delay = 250;
      }
    }
  }

  /** Delivers stream entries after `#lastSeq` until the mode or the epoch changes. */
  async #readStream(): Promise<void> {
    while (this.#mode === 'shared') {
      // A reply overdue by more than the command timeout means Redis hangs: report it in status().
      const watchdog = setTimeout(() => (this.#stalled = true), READ_BLOCK_MS + this.#timeout);
      let reply: [string, RawEntry[]][] | null;
      try {
        reply = await this.#conn.reader.sendCommand<[string, RawEntry[]][] | null>(
          ['XREAD', 'COUNT', String(READ_COUNT), 'BLOCK', String(READ_BLOCK_MS), 'STREAMS', this.#store.keys.events, `${this.#lastSeq}-0`],
          { timeout: 0 }, // no client-side timeout on the blocking read (node-redis defaults to 5 s)
        );
      } finally {
        clearTimeout(watchdog);
        this.#stalled = false;
      }
      if (this.#mode !== 'shared') return;
      if (!reply) {
        // Idle: check that Redis still holds our epoch (a flushed Redis restarts at seq 1).
        const current = await this.#store.currentEpoch(this.#conn.reader);
        if (current !== this.#epoch) return;
        continue;
      }
      for (const { seq, epoch, event } of parseEntries(reply[0]?.[1] ?? [], this.#logger)) {
        if (epoch !== this.#epoch) return; // the log was recreated: resync
        if (seq !== this.#lastSeq + 1) {
          this.#logger.warn(`Redis: fell behind the stream, seqs ${this.#lastSeq + 1}..${seq - 1} skipped`);
          this.#reset('gap');
        }
        this.#lastSeq = seq;
        if (event) this.#deliver(event);
        if (this.#mode !== 'shared') return;
      }
    }
  }
}
