/**
 * The legacy feed: messages that SIGMAX 2.0 services publish on the Redis channel
 * `sigmax:broadcast`, in the original format `{"topic": T, "message": EVENT}` with
 * `EVENT = {type, data, timestamp, ...}`.
 */
import { EVENT_DATA_SCHEMAS, formatIssues, isPublishedEventType } from '../../protocol/index.js';
import type { NewEvent } from './types.js';

export type LegacyParse = { ok: true; event: NewEvent } | { ok: false; reason: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Decodes and validates one legacy message. The topic is derived from the event type
 * (PROTOCOL.md's routing table), as for every published event; the message's own `topic`
 * is not trusted for routing. A missing timestamp becomes the time of receipt.
 */
export function parseLegacyMessage(raw: string): LegacyParse {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isObject(value) || !isObject(value.message)) {
    return { ok: false, reason: 'expected {"topic": T, "message": {type, data, timestamp}}' };
  }
  const { type, data, timestamp } = value.message;
  if (typeof type !== 'string' || !isPublishedEventType(type)) {
    return { ok: false, reason: `not a published event type: ${JSON.stringify(type)?.slice(0, 64)}` };
  }
  const parsed = EVENT_DATA_SCHEMAS[type].safeParse(data);
  if (!parsed.success) return { ok: false, reason: `${type} data: ${formatIssues(parsed.error)}` };
  if (timestamp !== undefined && typeof timestamp !== 'string') {
    return { ok: false, reason: 'timestamp must be an ISO-8601 string' };
  }
  return { ok: true, event: { type, data, timestamp: timestamp ?? new Date().toISOString() } };
}
