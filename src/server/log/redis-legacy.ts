/**
 * The legacy feed: messages that SIGMAX 2.0 services publish on the Redis channel
 * `sigmax:broadcast`, in the original format `{"topic": T, "message": EVENT}` with
 * `EVENT = {type, data, timestamp, ...}`.
 */
import { EVENT_DATA_SCHEMAS, formatIssues, isPublishedEventType } from '../../protocol/index.js';
import type { NewEvent } from './types.js';

export type LegacyParse =
  /** `sentTimestamp`: the message's own timestamp (absent: `event.timestamp` is the time of receipt). */
  | { ok: true; event: NewEvent; sentTimestamp: string | undefined }
  /** `reason` is `'own'` for a message bridged out by one of our instances (marked with `ownMark`). */
  | { ok: false; reason: string };

/** JSON.parse accepts nesting that JSON.stringify cannot write back (it throws a RangeError). */
function serializable(v: unknown): boolean {
  try {
    JSON.stringify(v);
    return true;
  } catch {
    return false;
  }
}

/** C0 controls and DEL: never in a timestamp (the Redis log's entry header ends it with one). */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Decodes and validates one legacy message. The topic is derived from the event type
 * (PROTOCOL.md's routing table), as for every published event; the message's own `topic`
 * is not trusted for routing. A missing timestamp becomes the time of receipt.
 */
export function parseLegacyMessage(raw: string, ownMark?: string): LegacyParse {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (ownMark !== undefined && isObject(value) && ownMark in value) return { ok: false, reason: 'own' };
  if (!isObject(value) || !isObject(value.message)) {
    return { ok: false, reason: 'expected {"topic": T, "message": {type, data, timestamp}}' };
  }
  const { type, data, timestamp } = value.message;
  if (typeof type !== 'string' || !isPublishedEventType(type)) {
    // Quote strings only: JSON.stringify of a deeply nested value throws (RangeError).
    return { ok: false, reason: `not a published event type: ${typeof type === 'string' ? JSON.stringify(type.slice(0, 64)) : typeof type}` };
  }
  const parsed = EVENT_DATA_SCHEMAS[type].safeParse(data);
  if (!parsed.success) return { ok: false, reason: `${type} data: ${formatIssues(parsed.error)}` };
  if (timestamp !== undefined && (typeof timestamp !== 'string' || CONTROL_CHARS.test(timestamp))) {
    return { ok: false, reason: 'timestamp must be an ISO-8601 string' };
  }
  if (!serializable(data)) return { ok: false, reason: `${type} data cannot be serialised (too deeply nested)` };
  return { ok: true, event: { type, data, timestamp: timestamp ?? new Date().toISOString() }, sentTimestamp: timestamp };
}
