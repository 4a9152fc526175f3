/** Decoding and validation of client messages (server side, with zod). Never throws on a peer's bytes. */
import { decodeJson, type FrameIssue } from './codec.js';
import { WSMessageType } from './constants.js';
import { ClientMessageSchema, MAX_REQUEST_ID_LENGTH, formatIssues, withinCodePoints, type ClientMessage } from './schemas.js';
import { isObject } from './shapes.js';

export type ClientFrameResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; issue: FrameIssue; /** echoed when it could be read */ request_id?: string };

const CLIENT_TYPES: ReadonlySet<string> = new Set(Object.values(WSMessageType));

/** A short, safe description of a peer's `type` value (never stringifies a whole, possibly deep, structure). */
function describeType(type: unknown): string {
  if (typeof type === 'string') return JSON.stringify(type.length > 64 ? `${type.slice(0, 64)}…` : type);
  return type === null ? 'null' : Array.isArray(type) ? 'an array' : typeof type === 'undefined' ? 'none' : `a ${typeof type}`;
}

/** The `request_id` of a decoded message, when it is one that can be echoed (a string of at most 128 code points). */
export function readRequestId(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const id = value.request_id;
  return typeof id === 'string' && withinCodePoints(id, MAX_REQUEST_ID_LENGTH) ? id : undefined;
}

/** Decodes and validates a frame received from a client. */
export function parseClientFrame(raw: unknown): ClientFrameResult {
  const decoded = decodeJson(raw);
  if (!decoded.ok) return decoded;
  const value = decoded.value;
  if (!isObject(value)) {
    return { ok: false, issue: { code: 'INVALID_MESSAGE', message: 'Message must be a JSON object' } };
  }
  const request_id = readRequestId(value);
  if (typeof value.type !== 'string' || !CLIENT_TYPES.has(value.type)) {
    return {
      ok: false,
      request_id,
      issue: {
        code: 'INVALID_MESSAGE',
        message: `Unknown message type: ${describeType(value.type)}. Expected one of ${[...CLIENT_TYPES].join(', ')}`,
      },
    };
  }
  const parsed = ClientMessageSchema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, request_id, issue: { code: 'INVALID_MESSAGE', message: `${value.type}: ${formatIssues(parsed.error)}` } };
  }
  return { ok: true, message: parsed.data };
}
