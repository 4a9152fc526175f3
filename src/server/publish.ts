/** Validation of events given to `publish()` and `POST /api/events`. */
import { EVENT_DATA_SCHEMAS, EVENT_TOPIC, formatIssues, isPublishedEventType, type PublishedEventType } from '../protocol/index.js';
import { InvalidEventError } from './errors.js';

/** Checks that `type` is publishable and `data` passes its schema. @throws {InvalidEventError} */
export function validateEvent(type: unknown, data: unknown): asserts type is PublishedEventType {
  if (typeof type !== 'string' || !isPublishedEventType(type)) {
    throw new InvalidEventError(`Unknown event type ${JSON.stringify(type)}; publishable types: ${Object.keys(EVENT_TOPIC).join(', ')}`);
  }
  const r = EVENT_DATA_SCHEMAS[type].safeParse(data);
  if (!r.success) throw new InvalidEventError(`Invalid ${type} data: ${formatIssues(r.error)}`);
}

/** Validates a batch of `{type, data}` objects, all before any is published. @throws {InvalidEventError} naming the index */
export function parseEventInputs(inputs: unknown[]): { type: PublishedEventType; data: unknown }[] {
  return inputs.map((input, i) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidEventError(`Event ${i}: expected an object {type, data}`);
    const { type, data } = input as { type?: unknown; data?: unknown };
    try {
      validateEvent(type, data);
      // JSON.parse accepts nesting that JSON.stringify cannot write back (RangeError at fan-out).
      JSON.stringify(data);
    } catch (err) {
      throw new InvalidEventError(`Event ${i}: ${err instanceof RangeError ? 'data is too deeply nested' : (err as Error).message}`);
    }
    return { type, data };
  });
}
