/**
 * Batched frames (PROTOCOL.md Part B 7): per-connection coalescing of event payloads.
 *
 * A connection that asked with `batch=1` holds the event payloads it is given in a pending list
 * instead of writing each one. All connections with pending events are flushed together at the end
 * of the turn (one `setImmediate` for all of them), or, with `batch_ms=N`, by one timer per distinct
 * N (at most {@link BATCH_MS_MAX} ms after their first pending event). A flush writes one frame
 * `{"type":"batch","events":[E1,...]}` built by joining the payloads' bytes (never re-encoding);
 * a lone event goes out as its plain frame. Any other frame (reply, error, ping) flushes the
 * connection's pending events first (see `Session.write`), so order is kept.
 */
import { BATCH_FRAME_TYPE, BatchQuery } from '../protocol/index.js';
import type { SessionSocket } from './context.js';

/** Largest `batch_ms` honoured; larger values are capped to it. */
export const BATCH_MS_MAX = 100;
/** Pending bytes at which a connection's batch is written at once rather than at the flush. */
export const BATCH_MAX_BYTES = 64 * 1024;

const PREFIX = Buffer.from(`{"type":"${BATCH_FRAME_TYPE}","events":[`);
const COMMA = Buffer.from(',');
const SUFFIX = Buffer.from(']}');

/** A connection's batching state: its delay and the payloads it holds. */
export class BatchState {
  pending: Buffer[] = [];
  bytes = 0;
  /** In a flush list (the turn's or a delay group's). */
  queued = false;
  constructor(readonly delayMs: number) {}
}

/** What batching needs from a session. */
export interface Batched {
  batch: BatchState | null;
  readonly state: string;
  readonly socket: SessionSocket;
  readonly ctx: { readonly options: { readonly maxBufferedBytes: number } };
  /** Writes a frame now (slow-consumer check included); `cb` once written. */
  write(payload: Buffer | string, cb?: (err?: Error) => void): boolean;
}

/** The batching a connection asked for in its upgrade URL (`batch=1`, `batch_ms=N`), or `null`. */
export function batchFromUrl(url: string | undefined): BatchState | null {
  const q = new URL(url ?? '/', 'http://localhost').searchParams;
  const on = q.get(BatchQuery.BATCH);
  if (on !== '1' && on !== 'true') return null;
  const ms = Number(q.get(BatchQuery.BATCH_MS) ?? 0);
  return new BatchState(Number.isFinite(ms) && ms > 0 ? Math.min(Math.floor(ms), BATCH_MS_MAX) : 0);
}

/** Connections to flush at the end of this turn. */
let turnList: Batched[] = [];
let turnScheduled = false;
/** Connections with `batch_ms`: one list and one timer per distinct delay. */
const delayed = new Map<number, Batched[]>();

/**
 * Hands an event payload to `s` (which has batching on): held until the flush, or written now
 * with `cb` (a replay page waits for its write). Returns false when the connection is not writable.
 */
export function sendBatched(s: Batched, payload: Buffer, cb?: (err?: Error) => void): boolean {
  const b = s.batch!;
  if (s.state !== 'open') return false;
  // The slow-consumer limit applies per event as without batching: the events held count as unsent.
  if (s.socket.bufferedAmount + b.bytes > s.ctx.options.maxBufferedBytes) {
    flushBatch(s);
    return s.write(payload, cb);
  }
  b.pending.push(payload);
  b.bytes += payload.length;
  if (cb || b.bytes >= BATCH_MAX_BYTES) return flushBatch(s, cb);
  if (!b.queued) {
    b.queued = true;
    if (b.delayMs === 0) {
      turnList.push(s);
      if (!turnScheduled) {
        turnScheduled = true;
        setImmediate(flushTurn);
      }
    } else {
      let group = delayed.get(b.delayMs);
      if (!group) {
        delayed.set(b.delayMs, (group = []));
        const ms = b.delayMs;
        setTimeout(() => flushDelayed(ms), ms).unref();
      }
      group.push(s);
    }
  }
  return true;
}

/** Writes what `s` holds now, as one frame. Returns whether it was written (true when nothing was held). */
export function flushBatch(s: Batched, cb?: (err?: Error) => void): boolean {
  const b = s.batch;
  if (!b || b.pending.length === 0) {
    cb?.();
    return true;
  }
  const list = b.pending;
  b.pending = [];
  b.bytes = 0;
  return s.write(list.length === 1 ? list[0]! : join(list), cb);
}

// Connections subscribed alike hold the very same payload Buffers: build their frame once per flush.
let lastList: Buffer[] | undefined;
let lastFrame: Buffer | undefined;

function join(list: Buffer[]): Buffer {
  if (lastList && lastList.length === list.length && lastList.every((p, i) => p === list[i])) return lastFrame!;
  const parts = new Array<Buffer>(list.length * 2 + 1);
  let size = PREFIX.length + SUFFIX.length + list.length - 1;
  parts[0] = PREFIX;
  for (let i = 0; i < list.length; i++) {
    if (i > 0) parts[i * 2] = COMMA;
    parts[i * 2 + 1] = list[i]!;
    size += list[i]!.length;
  }
  parts[list.length * 2] = SUFFIX;
  lastList = list;
  return (lastFrame = Buffer.concat(parts, size));
}

function flushAll(list: Batched[]): void {
  for (const s of list) {
    if (s.batch) s.batch.queued = false;
    flushBatch(s);
  }
  lastList = lastFrame = undefined;
}

function flushTurn(): void {
  const list = turnList;
  turnList = [];
  turnScheduled = false;
  flushAll(list);
}

function flushDelayed(ms: number): void {
  const list = delayed.get(ms);
  delayed.delete(ms);
  if (list) flushAll(list);
}
