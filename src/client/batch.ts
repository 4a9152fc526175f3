/**
 * Batched frames (PROTOCOL.md Part B 7), client side: the URL query that asks for them, and the
 * unpacking of `{"type":"batch","events":[...]}` into single events, each validated as if it had
 * come alone. A server that does not know `batch=1` ignores it (an unknown query parameter).
 */
import { BATCH_FRAME_TYPE, BatchQuery, validateServerEvent, type ServerFrameResult } from '../protocol/index.js';

/** The `batch` option: ask for batched frames (`true`), not (`false`), or allow waiting up to `maxDelayMs`. */
export type BatchOption = boolean | { maxDelayMs: number };

/** `url` with the query parameters that ask for batched frames, as `batch` says. */
export function withBatchQuery(url: string, batch: BatchOption): string {
  if (batch === false) return url;
  const ms = typeof batch === 'object' ? `&${BatchQuery.BATCH_MS}=${Math.floor(batch.maxDelayMs)}` : '';
  return `${url}${url.includes('?') ? '&' : '?'}${BatchQuery.BATCH}=1${ms}`;
}

/** Whether a decoded frame is a batch. */
export function isBatchFrame(value: unknown): value is { type: 'batch'; events: unknown[] } {
  return (value as { type?: unknown } | null)?.type === BATCH_FRAME_TYPE && Array.isArray((value as { events?: unknown }).events);
}

/**
 * Validates each event of a batch and hands it on, in order, like a frame of its own; `raw` is what
 * an invalid event is reported with: its JSON text, as if it had come alone.
 */
export function unpackBatch(events: unknown[], handle: (r: ServerFrameResult, raw: unknown) => void): void {
  for (let i = 0; i < events.length; i++) {
    const r = validateServerEvent(events[i]);
    handle(r, r.ok ? undefined : JSON.stringify(events[i]));
  }
}
