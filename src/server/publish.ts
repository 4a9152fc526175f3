/**
 * The one validation path of published events (`publish()`, `POST /api/events`, the legacy Redis
 * channel): the type is publishable, the data passes its schema, and it serialises to JSON. Each
 * event is serialised here, once; those bytes are what the log stores and what fan-out and replay send.
 */
import { EVENT_DATA_SCHEMAS, EVENT_TOPIC, formatIssues, isPublishedEventType, type PublishedEventType } from '../protocol/index.js';
import { InvalidEventError } from './errors.js';
import type { NewEvent } from './log/types.js';

/** Longest accepted event id. */
export const MAX_EVENT_ID_LENGTH = 200;

/** Checks that `type` is publishable and `data` passes its schema. @throws {InvalidEventError} */
export function validateEvent(type: unknown, data: unknown): asserts type is PublishedEventType {
  if (typeof type !== 'string' || !isPublishedEventType(type)) {
    throw new InvalidEventError(`Unknown event type ${JSON.stringify(type)}; publishable types: ${Object.keys(EVENT_TOPIC).join(', ')}`);
  }
  const r = EVENT_DATA_SCHEMAS[type].safeParse(data);
  if (!r.success) throw new InvalidEventError(`Invalid ${type} data: ${formatIssues(r.error)}`);
}

/** `data` as JSON. @throws {InvalidEventError} a BigInt, a cycle, nesting too deep, or nothing JSON can hold. */
export function serialise(type: string, data: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (err) {
    throw new InvalidEventError(`${type} data cannot be serialised as JSON: ${err instanceof RangeError ? 'too deeply nested' : (err as Error).message}`);
  }
  if (json === undefined) throw new InvalidEventError(`${type} data cannot be serialised as JSON`);
  return json;
}

/**
 * Validates and serialises one event (without an id, the log names it itself).
 * @throws {InvalidEventError}
 */
export function prepareEvent(type: unknown, data: unknown, id?: unknown, timestamp = new Date().toISOString()): NewEvent & { json: string } {
  validateEvent(type, data);
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > MAX_EVENT_ID_LENGTH)) {
    throw new InvalidEventError(`An event id must be a non-empty string of at most ${MAX_EVENT_ID_LENGTH} characters`);
  }
  const json = serialise(type, data);
  return { type, data, timestamp, id: id as string | undefined, json };
}

/** Validates a batch of `{type, data, id?}` objects, all before any is published. @throws {InvalidEventError} naming the index */
export function parseEventInputs(inputs: unknown[]): (NewEvent & { json: string })[] {
  const timestamp = new Date().toISOString();
  return inputs.map((input, i) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidEventError(`Event ${i}: expected an object {type, data, id?}`);
    const { type, data, id } = input as { type?: unknown; data?: unknown; id?: unknown };
    try {
      return prepareEvent(type, data, id, timestamp);
    } catch (err) {
      throw new InvalidEventError(`Event ${i}: ${(err as Error).message}`);
    }
  });
}
