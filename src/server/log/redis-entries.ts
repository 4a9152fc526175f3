/** Decoding of the event log's stream entries (as returned by `XRANGE`/`XREAD` over RESP2). */
import { isPublishedEventType } from '../../protocol/index.js';
import type { SequencedEvent } from './types.js';
import type { LogSink } from './redis-connections.js';

/** `[id, [field, value, field, value, …]]` */
export type RawEntry = [string, string[]];

export interface Entry {
  seq: number;
  /** The epoch the entry was appended in. */
  epoch: string | undefined;
  /** The event id. */
  id: string | undefined;
  /** `undefined` when the entry could not be decoded (logged; its seq still counts). */
  event: SequencedEvent | undefined;
}

/** Decodes entries written by the append script; ids are `${seq}-0`. */
export function parseEntries(raw: readonly RawEntry[], logger: LogSink): Entry[] {
  const out: Entry[] = [];
  for (const [id, fields] of raw) {
    const seq = Number.parseInt(id, 10);
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    let event: SequencedEvent | undefined;
    try {
      const type = f.ty ?? '';
      if (!isPublishedEventType(type)) throw new Error(`unknown type ${JSON.stringify(type)}`);
      const json = f.d ?? 'null';
      event = { type, topic: f.tp ?? '', timestamp: f.ts ?? '', data: JSON.parse(json) as unknown, seq, json };
    } catch (err) {
      logger.warn(`Redis: undecodable stream entry ${id}: ${String(err)}`);
    }
    out.push({ seq, epoch: f.ep, id: f.id, event });
  }
  return out;
}
