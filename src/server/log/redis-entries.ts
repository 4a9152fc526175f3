/** Decoding of the event log's stream entries (as returned by `XRANGE`/`XREAD` over RESP2). */
import { isPublishedEventType } from '../../protocol/index.js';
import type { SequencedEvent } from './types.js';
import { sequencedEvent } from './event.js';
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
    // The append script writes the fields in this order: read them by position, by name otherwise.
    const f: Partial<Record<string, string>> =
      fields.length === 14 && fields[0] === 'ep' && fields[8] === 'd' && fields[12] === 'id'
        ? { ep: fields[1], ty: fields[3], tp: fields[5], ts: fields[7], d: fields[9], id: fields[13] }
        : {};
    if (f.ep === undefined) for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    let event: SequencedEvent | undefined;
    try {
      const type = f.ty ?? '';
      if (!isPublishedEventType(type)) throw new Error(`unknown type ${JSON.stringify(type)}`);
      event = sequencedEvent(type, f.tp ?? '', f.ts ?? '', seq, f.d ?? 'null');
    } catch (err) {
      logger.warn(`Redis: undecodable stream entry ${id}: ${String(err)}`);
    }
    out.push({ seq, epoch: f.ep, id: f.id, event });
  }
  return out;
}
