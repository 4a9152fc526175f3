/**
 * The Redis side of the event log, one method per script: where the epoch, the sequence
 * and the history live, and how each is read or changed atomically (see `redis-scripts.ts`).
 */
import { randomUUID } from 'node:crypto';
import { ErrorReply } from 'redis';
import type { HistoryRead } from './types.js';
import type { LogSink } from './redis-connections.js';
import { parseEntries, type RawEntry } from './redis-entries.js';
import {
  ADOPT_RUN_SCRIPT,
  APPEND_SCRIPT,
  CREATE_SCRIPT,
  INSPECT_SCRIPT,
  READ_SCRIPT,
  ROTATE_SCRIPT,
  runScript,
  script,
  withTimeout,
  type CommandSender,
} from './redis-scripts.js';

/** The stream keeps at least this many entries / this long, so that lagging readers can catch up. */
const MIN_STORE_SIZE = 1000;
const MIN_STORE_MS = 60_000;

export interface StoreOptions {
  prefix: string;
  historySize: number;
  historyTtl: number;
  /** Bound on every wait for a reply (ms). */
  timeout: number;
  /** How long an event id is remembered (idempotent appends); at least the history window. */
  idTtl: number;
  /** Publish each appended event on the broadcast channel in the SIGMAX 2.0 format. */
  bridge: boolean;
  logger: LogSink;
}

/** One event as the append script takes it. */
export interface StoreEvent {
  type: string;
  topic: string;
  /** Never holds a control character (checked by the log). */
  timestamp: string;
  json: string;
  /** The publisher's idempotency id; absent: the log names the event itself (the batch's token protects its retry). */
  id: string | undefined;
  /** Publish it on the broadcast channel too (false for what came from there). */
  bridge: boolean;
}

/** Marks the messages our instances bridge out (`…,"sigmax_ws":1}`), so that none of them ingests them back. */
export const BRIDGE_MARK = 'sigmax_ws';
export const BRIDGE_SUFFIX = `,"${BRIDGE_MARK}":1}`;
/** Strings that JSON writes as they are (ISO timestamps, event types, topics). */
const PLAIN = /^[\w:.+-]*$/;

/** What {@link RedisLogStore.inspect} reports. */
export interface LogState {
  epoch: string | null;
  seq: number;
  /** Id of the entry at the asked seq (null: no such entry). */
  idAt: string | null;
  /** Seq of the oldest stored entry (null: the stream is empty). */
  firstSeq: number | null;
  /** Run id of the Redis process the log was last checked on (null: not recorded). */
  run: string | null;
  /** Run id of the Redis process holding the log now (`''`: INFO refused), and whether it was promoted from a replica. */
  currentRun: string;
  promoted: boolean;
}

export class RedisLogStore {
  readonly keys: { log: string; events: string; channel: string; id: string };
  readonly #o: StoreOptions;
  readonly #storeSize: string;
  readonly #storeMs: string;
  readonly #idTtl: string;
  readonly #scripts = {
    inspect: script(INSPECT_SCRIPT),
    create: script(CREATE_SCRIPT),
    rotate: script(ROTATE_SCRIPT),
    append: script(APPEND_SCRIPT),
    adoptRun: script(ADOPT_RUN_SCRIPT),
    read: script(READ_SCRIPT),
  };

  constructor(options: StoreOptions) {
    const p = options.prefix;
    // The hash tag puts every key in one slot (one shard of a Cluster); the channel keeps SIGMAX 2.0's name.
    this.keys = { log: `{${p}}:log`, events: `{${p}}:events`, id: `{${p}}:ids:`, channel: `${p}:broadcast` };
    this.#o = options;
    // Storage may exceed the configured history (readers need slack); readAfter enforces the window.
    this.#storeSize = String(Math.max(options.historySize, MIN_STORE_SIZE));
    this.#storeMs = String(Math.max(Math.ceil(options.historyTtl), MIN_STORE_MS));
    this.#idTtl = String(Math.max(Math.ceil(options.idTtl), Math.ceil(options.historyTtl), 1000));
  }

  /** The log's epoch and last seq, and the id of the entry at `seq` (read-only: works on a replica, under OOM). */
  async inspect(client: CommandSender, seq: number): Promise<LogState> {
    const [epoch, last, idAt, firstSeq, run, currentRun, promoted] = await runScript<
      [string | null, number, string | null, number | null, string | null, string | null, number]
    >(
      client,
      this.#scripts.inspect,
      [this.keys.log, this.keys.events],
      [String(seq)],
      this.#o.timeout,
    );
    return {
      epoch: epoch || null,
      seq: Number(last),
      idAt: idAt || null,
      firstSeq: firstSeq ? Number(firstSeq) : null,
      run: run || null,
      currentRun: currentRun || '',
      promoted: Number(promoted) === 1,
    };
  }

  /** Creates the epoch (an empty log, checked on Redis process `run`) if Redis has none; returns the current one. */
  create(client: CommandSender, run = ''): Promise<string> {
    return runScript<string>(client, this.#scripts.create, [this.keys.log, this.keys.events], [randomUUID(), run], this.#o.timeout);
  }

  /** Replaces the log by a new, empty one (checked on Redis process `run`) if it still has `seen`; returns the current epoch. */
  rotate(client: CommandSender, seen: string, run: string): Promise<string> {
    return runScript<string>(client, this.#scripts.rotate, [this.keys.log, this.keys.events], [seen, randomUUID(), run], this.#o.timeout);
  }

  /** Records that the log, if it still has `seen`, was checked on Redis process `run`. */
  async adoptRun(client: CommandSender, seen: string, run: string): Promise<void> {
    await runScript(client, this.#scripts.adoptRun, [this.keys.log], [seen, run], this.#o.timeout);
  }

  /**
   * Whether Redis persists every write before acknowledging it (AOF with `appendfsync always`), so that a restart keeps
   * everything it acknowledged. Not known (CONFIG disabled): no.
   */
  async persistsEveryWrite(client: CommandSender): Promise<boolean> {
    try {
      const info = String(await withTimeout(client.sendCommand<string>(['INFO', 'persistence']), this.#o.timeout));
      if (!/^aof_enabled:1/m.test(info)) return false;
      const reply = await withTimeout(client.sendCommand<unknown>(['CONFIG', 'GET', 'appendfsync']), this.#o.timeout);
      const value = Array.isArray(reply) ? reply[1] : (reply as Record<string, unknown> | null)?.appendfsync;
      return value === 'always';
    } catch (err) {
      if (err instanceof ErrorReply) return false;
      throw err;
    }
  }

  /**
   * Appends a batch atomically; per event, its new seq (> 0) or `-seq` / 0 for an id already appended.
   * `token` names the batch: sent again (a retry after a lost reply), it appends nothing and answers as before.
   */
  async append(client: CommandSender, events: readonly StoreEvent[], token: string): Promise<number[]> {
    const bucket = Math.floor(Date.now() / Number(this.#idTtl));
    const keys = [this.keys.log, this.keys.events, `${this.keys.id}${bucket}`, `${this.keys.id}${bucket - 1}`, `${this.keys.id}${bucket + 1}`];
    const args = [randomUUID(), this.#storeSize, this.#storeMs, this.#idTtl, this.#o.bridge ? this.keys.channel : '', token];
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      // The script builds the bridged message by concatenation: only for strings JSON needs not escape.
      const bridge = this.#o.bridge && e.bridge && PLAIN.test(e.timestamp) && PLAIN.test(e.type) && PLAIN.test(e.topic);
      const id = e.id ?? `${token}.${i}`;
      args.push(`${bridge ? 'b' : '-'}${e.id === undefined ? '-' : 'k'}${e.type}\x1f${e.topic}\x1f${e.timestamp}\x1f${id}`, e.json);
    }
    const reply = await runScript<[string, ...number[]]>(client, this.#scripts.append, keys, args, this.#o.timeout);
    return reply.slice(1).map(Number);
  }

  /** `readAfter` against the configured window (`historySize` seqs, `historyTtl` ms), the page cut at about `maxBytes`. */
  async read(client: CommandSender, epoch: string, after: number, limit: number, maxBytes: number): Promise<HistoryRead> {
    const reply = await runScript<[string, RawEntry[]?]>(
      client,
      this.#scripts.read,
      [this.keys.log, this.keys.events],
      [epoch, String(after), String(Math.max(1, limit)), String(this.#o.historySize), String(this.#o.historyTtl)],
      this.#o.timeout,
    );
    if (reply[0] !== 'ok') return { ok: false, reason: reply[0] as 'epoch_mismatch' | 'history_expired' };
    const raw = reply[1] ?? [];
    let bytes = 0;
    let n = 0;
    while (n < raw.length && (n === 0 || bytes < maxBytes)) {
      const fields = raw[n]![1];
      for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'd') bytes += fields[i + 1]!.length;
      n++;
    }
    const entries = parseEntries(raw.slice(0, n), this.#o.logger);
    // An event that cannot be decoded is lost: the reader cannot be given it, so it is told its history expired.
    if (entries.some((e) => !e.event)) return { ok: false, reason: 'history_expired' };
    return { ok: true, events: entries.map((e) => e.event!) };
  }

  /** The epoch Redis holds now (`null` if none). */
  currentEpoch(client: CommandSender): Promise<string | null> {
    return withTimeout(client.sendCommand<string | null>(['HGET', this.keys.log, 'epoch']), this.#o.timeout);
  }
}
