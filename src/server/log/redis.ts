/**
 * The event log shared by server instances through Redis.
 *
 * - Sequence + history: one Lua script per batch of appends gives each event the next seq and
 *   `XADD`s it to the stream with the entry id `${seq}-0`, atomically, so the stream id is the seq
 *   (resume = `XRANGE` from a seq) and the epoch in the same hash can never disagree with it.
 *   Concurrent `append()` calls are coalesced into batches (one script call each, pipelined on
 *   one connection, so one total order).
 * - Delivery: every instance (the appending one too) runs one blocking `XREAD` loop from its last
 *   seq and hands entries to `onEvent`: one total order everywhere, exactly once per instance.
 * - Outage: refuse, never fall back. While Redis cannot take an append, `append()` rejects with
 *   {@link EventLogUnavailableError} (`outcome` tells "Redis refused" from "Redis did not answer");
 *   a retry with the same event ids is safe (ids are idempotent in Redis).
 * - Divergence: after every reconnect of the reader, the log is checked to be the one delivered
 *   from (same epoch, the entry at the last delivered seq still there with the same id). If Redis
 *   lost its tail (restarted from an older snapshot / AOF) the epoch is rotated in Redis, so every
 *   instance resets and every client resumes with `recovered: false`: an explicit gap. The same when
 *   another Redis process holds the log than the one it was last checked on (its run id, recorded in
 *   the log hash), unless it is the same node restarted from an AOF that persisted every write: that
 *   catches a lost tail even when no running instance had delivered it. Until the check, appends and
 *   history reads are refused.
 * - Legacy feed, both ways: `P:broadcast` messages (SIGMAX 2.0 format) are validated and appended
 *   once (their id is a hash of their content: type, data, timestamp); our own events are
 *   published there in that format, marked so that our instances do not ingest them back.
 * Keys and scripts: `redis-scripts.ts`; connections: `redis-connections.ts`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ClientClosedError, ClientOfflineError, ErrorReply } from 'redis';
import { EVENT_TOPIC } from '../../protocol/index.js';
import { EventLogUnavailableError, InvalidEventError } from '../errors.js';
import { serialise } from '../publish.js';
import type { AppendResult, EventLog, HistoryRead, NewEvent, SequencedEvent } from './types.js';
import { RedisConnections, SILENT, type LogSink } from './redis-connections.js';
import { BRIDGE_MARK, BRIDGE_SUFFIX, RedisLogStore, type StoreEvent } from './redis-store.js';
import { RedisTimeoutError, withTimeout } from './redis-scripts.js';
import { CONTROL_CHARS, parseLegacyMessage } from './redis-legacy.js';
import { parseEntries, type RawEntry } from './redis-entries.js';

/** Why live delivery lost continuity (see {@link RedisEventLogOptions.onReset}). */
export type ResetReason =
  /** Redis holds another epoch (flushed, restarted empty, or rotated after losing its tail). */
  | 'epoch_changed'
  /** This instance fell behind by more than the stream retains: events were skipped. */
  | 'gap';

/** Options of {@link RedisEventLog}. Durations in milliseconds. */
export interface RedisEventLogOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]` */
  url: string;
  /** Prefix of every key and channel: `{P}:log`, `{P}:events`, `{P}:id:*`, `P:broadcast`. @default 'sigmax' */
  keyPrefix?: string;
  /** Events retained for resume (`readAfter`); `0` keeps none. */
  historySize: number;
  /** How long events are retained for resume. */
  historyTtl: number;
  /** Diagnostics sink; silent without one. @default undefined */
  logger?: LogSink;
  /**
   * Called when the events handed to `onEvent` stop continuing the previous ones: Redis lost the
   * log or its tail (new epoch), or events were skipped. It runs before the first event after the
   * break. Seqs and epochs that clients hold are void: the server must make its clients reconnect
   * and resume (e.g. close them with 1001), so they get `recovered: false`.
   * @default undefined
   */
  onReset?: (epoch: string, reason: ResetReason) => void;
  /** An append that Redis does not answer within this time is refused with outcome `unknown`. @default 2000 */
  commandTimeout?: number;
  /** Cap of the reconnect backoff. @default 2000 */
  reconnectMaxDelay?: number;
  /** How long an event id is remembered (at least `historyTtl`). @default 60000 */
  ingestDedupeTtl?: number;
  /** Also publish our events on `P:broadcast` in the SIGMAX 2.0 format. @default true */
  bridge?: boolean;
}

/**
 * Entries per `XREAD`: at most READ_COUNT, and about READ_BYTES of data, so that a reply takes well under the
 * watchdog's bound even on a slow link (1 MB in under a second at 10 Mbit/s); the block timeout bounds how late
 * an epoch change is noticed.
 */
const READ_COUNT = 1000;
const READ_BYTES = 1024 * 1024;
const READ_BLOCK_MS = 1000;
/** Delivered events kept for history reads: at most this many, and about this many bytes of data. */
const RECENT = 1000;
const RECENT_BYTES = 8 * 1024 * 1024;
/** A blocking read overdue by this many command timeouts: the connections are replaced. */
const REPLACE_AFTER = 2;
/** Most events per append script call; script calls in flight at once. */
const MAX_BATCH = 500;
const MAX_IN_FLIGHT = 2;

type Mode = 'new' | 'running' | 'closed';

interface PendingCall {
  events: StoreEvent[];
  resolve(results: AppendResult[]): void;
  reject(err: unknown): void;
}

/**
 * Whether Redis certainly did not run the command: it answered with an error, or node-redis refused to send it
 * (the client offline or closed). (Their `name` is plain `Error`: only `instanceof` tells them.)
 */
export function certainlyNotRun(err: unknown): boolean {
  return err instanceof ErrorReply || err instanceof ClientOfflineError || err instanceof ClientClosedError;
}

/**
 * {@link EventLog} on Redis. Invariants:
 * - `onEvent` is called only by the `XREAD` loop (also for this instance's own appends), so
 *   every instance sees one total order.
 * - Within one epoch, seqs handed to `onEvent` grow by one; any break calls `onReset` first.
 * - `append()` resolves only once Redis has appended (or already had) every event of the call.
 */
export class RedisEventLog implements EventLog {
  readonly #options: RedisEventLogOptions;
  readonly #logger: LogSink;
  readonly #conn: RedisConnections;
  readonly #store: RedisLogStore;
  #mode: Mode = 'new';
  #epoch = '';
  #lastSeq = 0;
  /** Id of the entry at `#lastSeq` (null: not known, e.g. nothing delivered yet). */
  #lastId: string | null = null;
  #onEvent: (event: SequencedEvent) => void = () => {};
  #loop: Promise<void> | undefined;
  /** The blocking read is overdue: Redis accepts connections but does not answer. */
  #stalled = false;
  /** The log was checked since the reader last failed (appends and history reads wait for it). */
  #synced = false;
  /** Waiting for `#synced`, in arrival order (see {@link RedisEventLog.#whenSynced}). */
  readonly #syncWaiters = new Set<(synced: boolean) => void>();
  #runUnknownLogged = false;
  #rotationLoggedFor = '';
  /** Redis refused the last append (OOM, read-only); cleared by the next one it takes, or by a probe. */
  #refusing = false;
  #probedAt = 0;
  /** Entries asked per `XREAD` (see READ_BYTES). */
  #readCount = READ_COUNT;
  /** When the legacy subscription's connection was last pinged. */
  #subCheckedAt = 0;
  /** Append calls waiting for a batch; script calls in flight; when the oldest one was sent. */
  #queue: PendingCall[] = [];
  #inFlight = 0;
  readonly #sentAt = new Set<number>();
  #flushScheduled = false;
  /** The last {@link RECENT} events delivered in this epoch, by seq (history reads hand them out again). */
  readonly #recent = new Map<number, SequencedEvent>();
  #recentBytes = 0;

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
      idTtl: options.ingestDedupeTtl ?? 60_000,
      bridge: options.bridge ?? true,
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

  /** The shared log's name; `''` until Redis was reached once. */
  get epoch(): string {
    return this.#epoch;
  }

  /**
   * Connects and resolves once the log is usable, or — Redis unreachable — after the connect
   * timeout; it then keeps reconnecting in the background and appends are refused meanwhile.
   */
  async start(onEvent: (event: SequencedEvent) => void): Promise<void> {
    if (this.#mode !== 'new') throw new Error('RedisEventLog.start() may be called once');
    this.#onEvent = onEvent;
    this.#mode = 'running';
    const up = await this.#conn.connect(this.#timeout);
    const subscribed = this.#conn
      .subscribe(this.#store.keys.channel, (message: string) => void this.#ingest(message))
      .catch((err: unknown) => {
        if (!this.#closed) this.#logger.warn(`Redis: subscribing to ${this.#store.keys.channel} failed: ${String(err)}`);
      });
    if (up) {
      try {
        await this.#sync();
        // Legacy messages published once start() resolved are heard (bounded: a hung Redis).
        await withTimeout(subscribed, this.#timeout);
      } catch (err) {
        this.#logger.warn(`Redis: start: ${String(err)}`);
      }
    } else {
      this.#logger.warn('Redis unavailable at start: publishing is refused until it is reachable');
    }
    this.#loop = this.#run();
  }

  append(events: readonly NewEvent[]): Promise<AppendResult[]> {
    if (this.#closed) return Promise.reject(new Error('RedisEventLog is closed'));
    if (this.#mode === 'new') return Promise.reject(new Error('RedisEventLog.start() has not been called'));
    let prepared: StoreEvent[];
    try {
      prepared = events.map((e) => {
        // The stream entry's header ends the timestamp with a control character.
        if (CONTROL_CHARS.test(e.timestamp)) throw new InvalidEventError(`${e.type} timestamp holds a control character`);
        return { type: e.type, topic: EVENT_TOPIC[e.type], timestamp: e.timestamp, json: e.json ?? serialise(e.type, e.data), id: e.id, bridge: true };
      });
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#enqueue(prepared);
  }

  async readAfter(epoch: string, after: number, limit: number, maxBytes = Infinity): Promise<HistoryRead> {
    // Not since the reader's last failure: Redis may have restarted without events of this epoch (until checked). Not
    // while Redis does not answer either: resumes waiting for it would pile reads onto it.
    if (this.#closed || !this.#conn.cmd.isReady || this.#epoch === '' || !this.#synced || this.#stalled) return { ok: false, reason: 'unavailable' };
    try {
      const read = await this.#store.read(this.#conn.cmd, epoch, after, limit, maxBytes);
      if (!read.ok || epoch !== this.#epoch) return read;
      // Redis decides what the page holds; an event this instance delivered is handed out as that same object,
      // whose frame the hub built once, rather than a copy every resuming session would encode again.
      const events = read.events.map((e) => {
        const d = this.#recent.get(e.seq);
        return d && d.json === e.json && d.type === e.type && d.timestamp === e.timestamp && d.topic === e.topic ? d : e;
      });
      return { ok: true, events };
    } catch (err) {
      this.#logger.warn(`Redis: history read failed: ${String(err)}`);
      return { ok: false, reason: 'unavailable' };
    }
  }

  status() {
    return {
      backend: 'redis' as const,
      connected: !this.#closed && this.#synced && this.#conn.ready && !this.#stalled && !this.#refusing && !this.#appendOverdue(),
      epoch: this.#epoch,
      lastSeq: this.#lastSeq,
    };
  }

  /** Quits the connections (ending the blocking read); the process can then exit. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#mode = 'closed';
    this.#onEvent = () => {};
    for (const waiter of [...this.#syncWaiters]) waiter(false);
    for (const call of this.#queue.splice(0)) call.reject(new Error('RedisEventLog is closed'));
    await this.#conn.close();
    await this.#loop;
  }

  /** An append has waited for its reply longer than the command timeout allows. */
  #appendOverdue(): boolean {
    const now = Date.now();
    for (const at of this.#sentAt) if (now - at > this.#timeout / 2) return true;
    return false;
  }

  #enqueue(events: StoreEvent[]): Promise<AppendResult[]> {
    // Appends wait for the log to be checked after the reader's last failure (a restarted Redis may have lost its tail).
    if (this.#epoch === '' || !this.#conn.cmd.isReady || !this.#synced) {
      return Promise.reject(new EventLogUnavailableError('The event log (Redis) is unreachable; nothing was appended', 'not_appended'));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#inFlight >= MAX_IN_FLIGHT || this.#queue.length === 0) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      while (this.#inFlight < MAX_IN_FLIGHT && this.#queue.length > 0) void this.#flush();
    });
  }

  /** Sends the oldest queued calls (whole calls, up to MAX_BATCH events unless one call is larger) as one script call. */
  async #flush(): Promise<void> {
    const calls: PendingCall[] = [];
    let size = 0;
    while (this.#queue.length > 0 && (calls.length === 0 || size + this.#queue[0]!.events.length <= MAX_BATCH)) {
      const call = this.#queue.shift()!;
      calls.push(call);
      size += call.events.length;
    }
    if (!this.#synced) {
      // Queued while the log was checked, but it failed since: not into a log that is not checked again yet.
      const error = new EventLogUnavailableError('The event log (Redis) is being checked after a reconnect; nothing was appended', 'not_appended');
      for (const call of calls) call.reject(error);
      this.#scheduleFlush();
      return;
    }
    const events = calls.length === 1 ? calls[0]!.events : calls.flatMap((c) => c.events);
    this.#inFlight++;
    const sentAt = Date.now();
    this.#sentAt.add(sentAt);
    try {
      const seqs = await this.#appendOnce(events);
      this.#refusing = false;
      let i = 0;
      for (const call of calls) {
        call.resolve(call.events.map(() => {
          const r = seqs[i++]!;
          return r > 0 ? { seq: r, duplicate: false } : { seq: -r, duplicate: true };
        }));
      }
    } catch (err) {
      const error = this.#refusal(err);
      for (const call of calls) call.reject(error);
    } finally {
      this.#sentAt.delete(sentAt);
      this.#inFlight--;
      this.#scheduleFlush();
    }
  }

  /**
   * One script call; when the connection drops under it, one retry once it is back (the same batch
   * token and ids: if the first attempt was applied, the retry finds them and appends nothing).
   */
  async #appendOnce(events: StoreEvent[]): Promise<number[]> {
    const token = randomUUID();
    try {
      return await this.#store.append(this.#conn.cmd, events, token);
    } catch (err) {
      if (this.#closed || certainlyNotRun(err) || err instanceof RedisTimeoutError) throw err;
      // Not into a log that is not checked yet: Redis may have restarted without the first attempt, or more.
      if (!(await this.#conn.whenCmdReady(this.#timeout)) || !(await this.#whenSynced(2 * this.#timeout))) throw err;
      return await this.#store.append(this.#conn.cmd, events, token);
    }
  }

  #refusal(err: unknown): Error {
    if (this.#closed) return new Error('RedisEventLog is closed');
    if (certainlyNotRun(err)) {
      if (err instanceof ErrorReply) this.#refusing = true;
      this.#logger.warn(`Redis refused an append: ${String(err)}`);
      return new EventLogUnavailableError(`The event log (Redis) refused the append: ${(err as Error).message}`, 'not_appended', 1000, { cause: err });
    }
    this.#logger.warn(`Redis: append outcome unknown: ${String(err)}`);
    const what = err instanceof RedisTimeoutError ? 'did not answer in time' : 'connection was lost';
    return new EventLogUnavailableError(`The event log (Redis) ${what}; the events may or may not be appended: retry with the same ids`, 'unknown', 1000, { cause: err });
  }

  async #ingest(raw: string): Promise<void> {
    if (raw.endsWith(BRIDGE_SUFFIX)) return; // bridged out by one of our instances: already in the log
    const parsed = parseLegacyMessage(raw, BRIDGE_MARK);
    if (!parsed.ok) {
      if (parsed.reason !== 'own') this.#logger.warn(`Redis: ignored a message on ${this.#store.keys.channel}: ${parsed.reason}`);
      return;
    }
    const { type, data, timestamp } = parsed.event;
    const json = serialise(type, data);
    // Sequenced once however many times (topics) the original publishes it, by every instance that
    // hears it; a genuine repeat has another timestamp. (Without a timestamp: type and data only.)
    const id = `legacy:${createHash('sha1').update(`${type}\n${parsed.sentTimestamp ?? ''}\n${json}`).digest('hex')}`;
    try {
      // Heard while the log is being checked (after a reconnect): wait for it rather than drop the message.
      await this.#whenSynced(this.#timeout);
      const [r] = await this.#enqueue([{ type, topic: EVENT_TOPIC[type], timestamp, json, id, bridge: false }]);
      this.#logger.debug(r && !r.duplicate ? `Redis: legacy message sequenced as ${r.seq}` : 'Redis: legacy message already sequenced');
    } catch (err) {
      this.#logger.warn(`Redis: legacy message not sequenced: ${String(err)}`);
    }
  }

  #reset(reason: ResetReason): void {
    try {
      this.#options.onReset?.(this.#epoch, reason);
    } catch (err) {
      this.#logger.error(`RedisEventLog onReset threw: ${String(err)}`);
    }
  }

  #deliver(event: SequencedEvent): void {
    this.#recent.set(event.seq, event);
    this.#recentBytes += event.json?.length ?? 0;
    while (this.#recent.size > RECENT || this.#recentBytes > RECENT_BYTES) {
      const [seq, oldest] = this.#recent.entries().next().value!;
      this.#recent.delete(seq);
      this.#recentBytes -= oldest.json?.length ?? 0;
    }
    try {
      this.#onEvent(event);
    } catch (err) {
      this.#logger.error(`RedisEventLog onEvent threw: ${String(err)}`);
    }
  }

  /**
   * Checks the log Redis holds against the one delivered from, and decides where delivery continues:
   * - first contact: from the current end (`onEvent` receives events committed from now on);
   * - same epoch, and the entry at `#lastSeq` still there with the id delivered: from `#lastSeq`;
   * - same epoch but Redis lost what was delivered (its seq went back, or the entry at `#lastSeq`
   *   is gone or another one): the log diverged. Rotate the epoch in Redis (only if it still is the
   *   one seen, so instances agree on one new log) and continue as below;
   * - another epoch: from its first seq, so that nothing committed in it before this instance
   *   noticed is skipped; `onReset` first.
   */
  async #sync(): Promise<void> {
    const cmd = this.#conn.cmd;
    let state = await this.#store.inspect(cmd, this.#lastSeq);
    if (this.#closed) return;
    const run = state.currentRun;
    if (run === '' && !this.#runUnknownLogged) {
      this.#runUnknownLogged = true;
      this.#logger.warn('Redis does not tell its run_id (INFO refused): a restart that lost acknowledged events is noticed only by an instance that delivered them');
    }
    if (state.epoch === null) {
      await this.#store.create(cmd, run);
      state = await this.#store.inspect(cmd, this.#lastSeq);
      if (this.#closed) return;
    }
    if (run !== '' && state.run !== run && state.epoch !== null) {
      // Another Redis process holds the log than the one it was last checked on: Redis restarted or failed over. What
      // it acknowledged last may be gone, and no instance running now may have seen it (the whole fleet restarted with
      // it), so the seqs of that tail would be given to other events: a new epoch. Unless the process is the same node
      // restarted from an AOF that persisted every write (a replica promoted may have missed the last ones whatever its
      // persistence: replication is asynchronous). A log checked on none yet (older build) is adopted.
      const restarted = state.run !== null && (state.promoted || !(await this.#store.persistsEveryWrite(cmd)));
      if (restarted) {
        const why = state.promoted ? 'another node took over (it has a previous replication id)' : 'Redis restarted without persisting every write';
        // Once per run id: a Redis that refuses the new epoch (a read-only replica) has it tried again and again.
        if (this.#rotationLoggedFor !== run) this.#logger.warn(`Redis run id ${state.run!.slice(0, 8)} -> ${run.slice(0, 8)}: ${why}, what it acknowledged last may be lost; starting a new epoch`);
        this.#rotationLoggedFor = run;
        await this.#store.rotate(cmd, state.epoch, run);
      } else {
        // Recording it is only bookkeeping: a replica that refuses it is still the same log.
        await this.#store.adoptRun(cmd, state.epoch, run).catch((err: unknown) => {
          if (!(err instanceof ErrorReply)) throw err;
          this.#logger.debug(`Redis: run id not recorded: ${String(err)}`);
        });
      }
      state = await this.#store.inspect(cmd, this.#lastSeq);
      if (this.#closed) return;
    }
    if (state.epoch === null) throw new Error('the log vanished during the check');
    const epoch = state.epoch;
    if (this.#epoch === '') {
      this.#epoch = epoch;
      this.#lastSeq = state.seq;
      this.#lastId = null;
      this.#markSynced();
      this.#logger.info(`Redis: on the shared log, epoch ${epoch}, delivering after seq ${state.seq}`);
      // Clients that connected before Redis was reachable hold no valid position: make them resume.
      if (this.#loop) this.#reset('epoch_changed');
      return;
    }
    if (epoch === this.#epoch) {
      // The entry is gone because the stream was trimmed (or expired) past it, not because Redis lost it.
      const trimmed = state.idAt === null && (state.firstSeq === null || state.firstSeq > this.#lastSeq);
      const same = this.#lastSeq === 0 || this.#lastId === null || state.idAt === this.#lastId || trimmed;
      if (state.seq >= this.#lastSeq && same) {
        this.#markSynced();
        return;
      }
      this.#logger.warn(`Redis: the log lost events this instance delivered (seq ${this.#lastSeq}, Redis at ${state.seq}): starting a new epoch`);
      await this.#store.rotate(cmd, epoch, run);
      const now = await this.#store.inspect(cmd, 0);
      if (this.#closed) return;
      if (now.epoch === null) throw new Error('the log vanished during its rotation');
      this.#switchTo(now.epoch);
      return;
    }
    this.#switchTo(epoch);
  }

  #markSynced(): void {
    this.#synced = true;
    for (const waiter of [...this.#syncWaiters]) waiter(true);
  }

  /** Resolves `true` once the log is checked (at once if it is), `false` after `ms` or on close; waiters in arrival order. */
  #whenSynced(ms: number): Promise<boolean> {
    if (this.#synced || this.#closed) return Promise.resolve(this.#synced && !this.#closed);
    return new Promise((resolve) => {
      const done = (synced: boolean): void => {
        clearTimeout(timer);
        this.#syncWaiters.delete(done);
        resolve(synced);
      };
      const timer = setTimeout(() => done(false), ms);
      this.#syncWaiters.add(done);
    });
  }

  #switchTo(epoch: string): void {
    this.#recent.clear();
    this.#recentBytes = 0;
    this.#epoch = epoch;
    this.#lastSeq = 0;
    this.#lastId = null;
    this.#markSynced();
    this.#logger.info(`Redis: the log is now epoch ${epoch}; delivering it from its start`);
    this.#reset('epoch_changed');
  }

  /** The one delivery loop: waits for Redis, syncs, reads the stream; backs off after errors. */
  async #run(): Promise<void> {
    // Appends wait for the check after a failure: after a first failure it runs as soon as the connections are back,
    // after another within a second, following a pause (a failing check or read would otherwise spin).
    let failedAt = -Infinity;
    let delay = 0;
    while (!this.#closed) {
      await this.#conn.whenReady(delay);
      if (this.#closed) return;
      try {
        await this.#sync();
        await this.#readStream();
        delay = 0; // the epoch changed: check again at once
      } catch (err) {
        if (this.#closed) return;
        this.#synced = false;
        this.#logger.debug(`Redis reader: ${String(err)}`);
        delay = Date.now() - failedAt < 1000 ? 250 : 0;
        failedAt = Date.now();
      }
    }
  }

  /** Whether Redis takes writes again (a write-flagged script it refuses under OOM / read-only, a no-op otherwise). */
  async #probeWrites(): Promise<void> {
    this.#probedAt = Date.now();
    try {
      await this.#store.create(this.#conn.cmd);
      this.#refusing = false;
    } catch {
      // still refusing (or unreachable: status() reports that too)
    }
  }

  /** Sizes the next reads from the entries of this one: about READ_BYTES per reply (while the events' size holds). */
  #sizeReads(entries: readonly RawEntry[]): void {
    if (entries.length === 0) return;
    let bytes = 0;
    for (const [, fields] of entries) bytes += (fields[1]?.length ?? 0) + (fields[3]?.length ?? 0);
    const perEntry = Math.max(1, bytes / entries.length);
    this.#readCount = Math.max(1, Math.min(READ_COUNT, Math.floor(READ_BYTES / perEntry)));
  }

  /**
   * The legacy subscription only receives, so nothing else would notice its connection going silent: every
   * READ_BLOCK_MS + REPLACE_AFTER command timeouts it is pinged, and without an answer within the command
   * timeout the connections are replaced (the subscription is made again on the new one).
   */
  #checkSub(): void {
    const sub = this.#conn.sub;
    const now = Date.now();
    if (!sub.isReady || now - this.#subCheckedAt < READ_BLOCK_MS + REPLACE_AFTER * this.#timeout) return;
    this.#subCheckedAt = now;
    withTimeout(sub.ping(), this.#timeout).catch((err: unknown) => {
      if (err instanceof RedisTimeoutError && sub === this.#conn.sub) this.#conn.replace(`no reply to PING on the subscription in ${this.#timeout} ms`);
    });
  }

  /** Delivers stream entries after `#lastSeq` until the epoch changes (then returns to resync). */
  async #readStream(): Promise<void> {
    while (!this.#closed) {
      // A reply overdue by half the command timeout means Redis hangs: report it in status(). Overdue by
      // REPLACE_AFTER command timeouts, the connections are replaced: a Redis gone without a reset (a failover to
      // the same address) would otherwise keep them waiting until TCP gives up, many minutes later.
      let replaceTimer: NodeJS.Timeout | undefined;
      const watchdog = setTimeout(() => {
        this.#stalled = true;
        const after = READ_BLOCK_MS + REPLACE_AFTER * this.#timeout;
        replaceTimer = setTimeout(() => this.#conn.replace(`no reply for ${after} ms`), (REPLACE_AFTER - 0.5) * this.#timeout);
      }, READ_BLOCK_MS + this.#timeout / 2);
      let reply: [string, RawEntry[]][] | null;
      try {
        reply = await this.#conn.reader.sendCommand<[string, RawEntry[]][] | null>(
          ['XREAD', 'COUNT', String(this.#readCount), 'BLOCK', String(READ_BLOCK_MS), 'STREAMS', this.#store.keys.events, `${this.#lastSeq}-0`],
          { timeout: 0 }, // no client-side timeout on the blocking read (node-redis defaults to 5 s)
        );
      } finally {
        clearTimeout(watchdog);
        clearTimeout(replaceTimer);
        this.#stalled = false;
      }
      if (this.#closed) return;
      this.#checkSub();
      if (this.#refusing && Date.now() - this.#probedAt >= READ_BLOCK_MS) void this.#probeWrites();
      if (!reply) {
        // Idle: check that Redis still holds our epoch (a flushed Redis restarts at seq 1).
        const current = await this.#store.currentEpoch(this.#conn.reader);
        if (current !== this.#epoch) return;
        continue;
      }
      const entries = reply[0]?.[1] ?? [];
      this.#sizeReads(entries);
      for (const { seq, epoch, id, event } of parseEntries(entries, this.#logger)) {
        if (epoch !== undefined && epoch !== this.#epoch) return; // the log was recreated: resync
        if (seq !== this.#lastSeq + 1) {
          this.#logger.warn(`Redis: fell behind the stream, seqs ${this.#lastSeq + 1}..${seq - 1} skipped`);
          this.#reset('gap');
        } else if (!event) {
          // Another format or damaged: what it held cannot be delivered, so clients must not go on as if nothing was missed.
          this.#logger.warn(`Redis: seq ${seq} cannot be delivered: clients resume with a gap`);
          this.#reset('gap');
        }
        this.#lastSeq = seq;
        this.#lastId = id ?? null;
        if (event) this.#deliver(event);
        if (this.#closed) return;
      }
    }
  }
}
