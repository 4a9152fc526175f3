/** Builds committed events from the bytes serialised at publish. */
import type { PublishedEventType } from '../../protocol/index.js';
import type { SequencedEvent } from './types.js';

/**
 * A committed event whose `data` is parsed from `json` on first access (and then kept): fan-out and
 * replay send `json` as it is, so most events are never parsed on a server; each parse makes a
 * private copy, never the publisher's object. `data` throws a `SyntaxError` if `json` is not JSON.
 */
export function sequencedEvent(type: PublishedEventType, topic: string, timestamp: string, seq: number, json: string): SequencedEvent {
  let data: unknown;
  let parsed = false;
  return {
    type,
    get data(): unknown {
      if (!parsed) {
        data = JSON.parse(json) as unknown;
        parsed = true;
      }
      return data;
    },
    timestamp,
    topic,
    seq,
    json,
  };
}
