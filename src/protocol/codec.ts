/** Parsing and serialisation of frames, on both sides. Never throws on a peer's bytes. */
import type * as z from 'zod/mini';
import {
  ClientMessageSchema,
  EVENT_DATA_SCHEMAS,
  EnvelopeSchema,
  type ClientMessage,
  type Envelope,
  type EventDataMap,
  type ServerEvent,
  type ServerEventType,
} from './schemas.js';
import { WSMessageType } from './constants.js';

/** Why a frame was refused. */
export interface FrameIssue {
  /** `INVALID_MESSAGE` for every decoding or validation failure. */
  code: 'INVALID_MESSAGE';
  /** Human-readable reason, e.g. `data.price: expected number`. */
  message: string;
}

export type ServerFrameResult =
  | { ok: true; known: true; event: ServerEvent }
  /** A well-formed envelope of a type this version does not know (a newer server): pass it on untyped. */
  | { ok: true; known: false; event: Envelope }
  | { ok: false; issue: FrameIssue };

export type ClientFrameResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; issue: FrameIssue; /** echoed when it could be read */ request_id?: string };

const CLIENT_TYPES: ReadonlySet<string> = new Set(Object.values(WSMessageType));

/** Formats zod issues as `path: problem; …` (no locale bundle needed). */
export function formatIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const path = i.path.length ? i.path.join('.') : '(root)';
      const expected = 'expected' in i && i.expected ? `expected ${String(i.expected)}` : i.code.replace(/_/g, ' ');
      return `${path}: ${expected}`;
    })
    .join('; ');
}

function decodeJson(raw: unknown): { ok: true; value: unknown } | { ok: false; issue: FrameIssue } {
  if (typeof raw !== 'string') {
    return { ok: false, issue: { code: 'INVALID_MESSAGE', message: 'Binary frames are not supported; send UTF-8 JSON text' } };
  }
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (err) {
    return { ok: false, issue: { code: 'INVALID_MESSAGE', message: `Invalid JSON: ${(err as Error).message}` } };
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Decodes and validates a frame received from a server.
 * Known event types are validated with their data schema; unknown types only as an envelope.
 */
export function parseServerFrame(raw: unknown): ServerFrameResult {
  const decoded = decodeJson(raw);
  if (!decoded.ok) return decoded;
  return validateServerEvent(decoded.value);
}

/** Validates an already-decoded server event. */
export function validateServerEvent(value: unknown): ServerFrameResult {
  if (!isPlainObject(value)) {
    return { ok: false, issue: { code: 'INVALID_MESSAGE', message: 'Frame is not a JSON object' } };
  }
  const env = EnvelopeSchema.safeParse(value);
  if (!env.success) return { ok: false, issue: { code: 'INVALID_MESSAGE', message: formatIssues(env.error) } };
  const type = env.data.type;
  const schema = Object.prototype.hasOwnProperty.call(EVENT_DATA_SCHEMAS, type)
    ? EVENT_DATA_SCHEMAS[type as ServerEventType]
    : undefined;
  if (!schema) return { ok: true, known: false, event: env.data };
  const data = schema.safeParse(env.data.data);
  if (!data.success) {
    return { ok: false, issue: { code: 'INVALID_MESSAGE', message: `${type} ${formatIssues(data.error).replace(/^\(root\)/, 'data').replace(/^(?!data)/, 'data.')}` } };
  }
  return { ok: true, known: true, event: { ...env.data, data: data.data } as ServerEvent };
}

/** Decodes and validates a frame received from a client (server side). */
export function parseClientFrame(raw: unknown): ClientFrameResult {
  const decoded = decodeJson(raw);
  if (!decoded.ok) return decoded;
  const value = decoded.value;
  if (!isPlainObject(value)) {
    return { ok: false, issue: { code: 'INVALID_MESSAGE', message: 'Message must be a JSON object' } };
  }
  const request_id = typeof value.request_id === 'string' && value.request_id.length <= 128 ? value.request_id : undefined;
  if (typeof value.type !== 'string' || !CLIENT_TYPES.has(value.type)) {
    return {
      ok: false,
      request_id,
      issue: {
        code: 'INVALID_MESSAGE',
        message: `Unknown message type: ${JSON.stringify(value.type)?.slice(0, 64)}. Expected one of ${[...CLIENT_TYPES].join(', ')}`,
      },
    };
  }
  const parsed = ClientMessageSchema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, request_id, issue: { code: 'INVALID_MESSAGE', message: `${value.type}: ${formatIssues(parsed.error)}` } };
  }
  return { ok: true, message: parsed.data };
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
export function buildEvent<T extends ServerEventType>(type: T, data: EventDataMap[T], extras: EnvelopeExtras = {}): ServerEvent<T> {
  const { timestamp, ...rest } = extras;
  return { type, data, timestamp: timestamp ?? new Date().toISOString(), ...rest } as ServerEvent<T>;
}

/** Serialises any frame to its wire form. */
export function serialize(frame: object): string {
  return JSON.stringify(frame);
}
