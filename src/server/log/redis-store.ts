/**
 * The Redis side of the event log, one method per script: where the epoch, the sequence
 * and the history live, and how each is read or changed atomically (see `redis-scripts.ts`).
 */
import { randomUUID } from 'node:crypto';
import type { HistoryRead, NewEvent } from './types.js';
import type { LogSink } from './redis-connections.js';
import { parseEntries, type RawEntry } from './redis-entries.js';
import { APPEND_SCRIPT, READ_SCRIPT, SYNC_SCRIPT, runScript, script, withTimeout, type CommandSender } from './redis-scripts.js';

/** The stream keeps at least this many entries / this long, so that lagging readers can catch up. */
const MIN_STORE_SIZE = 1000;
const MIN_STORE_MS = 60_000;

export interface StoreOptions {
  prefix: string;
  historySize: number;
  historyTtl: number;
  /** Bound on every wait for a reply (ms). */
  timeout: number;
  ingestDedupeTtl: number;
  logger: LogSink;
}

export class RedisLogStore {
  readonly keys: { log: string; events: string; channel: string; ingest: string };
  readonly #o: StoreOptions;
  readonly #storeSize: string;
  readonly #storeMs: string;
  readonly #scripts = { sync: script(SYNC_SCRIPT), append: script(APPEND_SCRIPT), read: script(READ_SCRIPT) };

  constructor(options: StoreOptions) {
    const p = options.prefix;
    this.keys = { log: `${p}:log`, events: `${p}:events`, channel: `${p}:broadcast`, ingest: `${p}:ingest:` };
    this.#o = options;
    // Storage may exceed the configured history (readers need slack); readAfter enforces the window.
    this.#storeSize = String(Math.max(options.historySize, MIN_STORE_SIZE));
    this.#storeMs = String(Math.max(Math.ceil(options.historyTtl), MIN_STORE_MS));
  }

  /** The current epoch (created with an empty log if Redis lost it) and its last seq. */
  async sync(client: CommandSender): Promise<{ epoch: string; seq: number }> {
    const [epoch, seq] = await runScript<[string, number]>(client, this.#scripts.sync, [this.keys.log, this.keys.events], [randomUUID()], this.#o.timeout);
    return { epoch, seq: Number(seq) };
  }

  /**
   * Appends `event` (its `data` given already serialised, `dataJson`) and returns its seq, or 0 when
   * `dedupeKey` was already taken (a legacy message another instance sequenced).
   * `retry`: skip if `appendId` is already in the stream.
   */
  async append(
    client: CommandSender,
    event: NewEvent,
    topic: string,
    dataJson: string,
    appendId: string,
    retry: boolean,
    dedupeKey: string | null,
  ): Promise<number> {
    const [, seq] = await runScript<[string, number]>(
      client,
      this.#scripts.append,
      [this.keys.log, this.keys.events, dedupeKey ?? `${this.keys.ingest}-`],
      [
        randomUUID(),
        event.type,
        topic,
        event.timestamp,
        dataJson,
        this.#storeSize,
        this.#storeMs,
        dedupeKey ? String(this.#o.ingestDedupeTtl) : '0',
        appendId,
        retry ? '1' : '0',
      ],
      this.#o.timeout,
    );
    return Number(seq);
  }

  /** `readAfter` against the configured window (`historySize` seqs, `historyTtl` ms). */
  async read(client: CommandSender, epoch: string, after: number, limit: number): Promise<HistoryRead> {
    const reply = await runScript<[string, RawEntry[]?]>(
      client,
      this.#scripts.read,
      [this.keys.log, this.keys.events],
      [epoch, String(after), String(Math.max(1, limit)), String(this.#o.historySize), String(this.#o.historyTtl)],
      this.#o.timeout,
    );
    if (reply[0] !== 'ok') return { ok: false, reason: reply[0] as 'epoch_mismatch' | 'history_expired' };
    const events = parseEntries(reply[1] ?? [], this.#o.logger).flatMap((e) => (e.event ? [e.event] : []));
    return { ok: true, events };
  }

  /** The epoch Redis holds now (`null` if none). */
  currentEpoch(client: CommandSender): Promise<string | null> {
    return withTimeout(client.sendCommand<string | null>(['HGET', this.keys.log, 'epoch']), this.#o.timeout);
  }
}
