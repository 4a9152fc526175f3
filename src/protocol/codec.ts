/**
 * Decoding and validation of server frames (the client's hot path: no zod, see shapes.ts),
 * and serialisation. Never throws on a peer's bytes.
 */
import { ENVELOPE, EVENT_DATA_SHAPES, checkShape, isObject, type Envelope, type EventInputMap, type ServerEvent, type ServerEventType, type Shape } from './shapes.js';

/** Why a frame was refused. */
export interface FrameIssue {
  /** `INVALID_MESSAGE` for every decoding or validation failure. */
  code: 'INVALID_MESSAGE';
  /** Human-readable reason, e.g. `trade_executed data.size: expected number`. */
  message: string;
}

export type ServerFrameResult =
  | { ok: true; known: true; event: ServerEvent }
  /** A well-formed envelope of a type this version does not know (a newer server): pass it on untyped. */
  | { ok: true; known: false; event: Envelope }
  | { ok: false; issue: FrameIssue };

const invalid = (message: string) => ({ ok: false as const, issue: { code: 'INVALID_MESSAGE' as const, message } });

/** Decodes a text frame as JSON. Binary frames and malformed JSON are refused. */
export function decodeJson(raw: unknown): { ok: true; value: unknown } | { ok: false; issue: FrameIssue } {
  if (typeof raw !== 'string') return invalid('Binary frames are not supported; send UTF-8 JSON text');
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (err) {
    return invalid(`Invalid JSON: ${(err as Error).message}`);
  }
}

/**
 * Decodes and validates a frame received from a server.
 * Known event types are validated with their data shape; unknown types only as an envelope.
 */
export function parseServerFrame(raw: unknown): ServerFrameResult {
  const decoded = decodeJson(raw);
  return decoded.ok ? validateServerEvent(decoded.value) : decoded;
}

/** Validates an already-decoded server event. */
export function validateServerEvent(value: unknown): ServerFrameResult {
  if (!isObject(value)) return invalid('Frame is not a JSON object');
  const problem = checkShape(ENVELOPE, value, '(frame)');
  if (problem) return invalid(problem.replace('(frame).', ''));
  const type = value.type as string;
  if (!Object.prototype.hasOwnProperty.call(EVENT_DATA_SHAPES, type)) {
    return { ok: true, known: false, event: value as unknown as Envelope };
  }
  const dataProblem = checkShape(EVENT_DATA_SHAPES[type as ServerEventType] as Shape, value.data, 'data');
  if (dataProblem) return invalid(`${type} ${dataProblem}`);
  return { ok: true, known: true, event: value as unknown as ServerEvent };
}

/** Optional envelope fields of an outgoing server event. */
export interface EnvelopeExtras {
  connection_id?: string | null;
  request_id?: string;
  topic?: string;
  seq?: number;
  timestamp?: string;
}

/** Builds a server event with a fresh ISO-8601 timestamp. */
export function buildEvent<T extends ServerEventType>(type: T, data: EventInputMap[T], extras: EnvelopeExtras = {}): ServerEvent<T> {
  const { timestamp, ...rest } = extras;
  return { type, data, timestamp: timestamp ?? new Date().toISOString(), ...rest } as ServerEvent<T>;
}

/** Serialises any frame to its wire form. */
export function serialize(frame: object): string {
  return JSON.stringify(frame);
}
