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
  /** `undefined` when the entry could not be decoded (logged; its seq still counts, as a gap). */
  event: SequencedEvent | undefined;
}

/** Decodes entries written by the append script (fields `h` header, `d` data); ids are `${seq}-0`. */
export function parseEntries(raw: readonly RawEntry[], logger: LogSink): Entry[] {
  const out: Entry[] = [];
  for (const [entryId, fields] of raw) {
    const seq = Number.parseInt(entryId, 10);
    // The script writes `h` then `d`: read them by position, by name otherwise.
    let h = fields[0] === 'h' ? fields[1] : undefined;
    let d = fields[2] === 'd' ? fields[3] : undefined;
    if (h === undefined || d === undefined) {
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i] === 'h') h = fields[i + 1];
        else if (fields[i] === 'd') d = fields[i + 1];
      }
    }
    let epoch: string | undefined;
    let id: string | undefined;
    let event: SequencedEvent | undefined;
    try {
      // "<t> <epoch> <flags><type>\x1f<topic>\x1f<timestamp>\x1f<id>"
      const e1 = h === undefined ? -1 : h.indexOf(' ');
      const e2 = e1 < 0 ? -1 : h!.indexOf(' ', e1 + 1);
      const s1 = e2 < 0 ? -1 : h!.indexOf('\x1f', e2 + 3);
      const s2 = s1 < 0 ? -1 : h!.indexOf('\x1f', s1 + 1);
      const s3 = s2 < 0 ? -1 : h!.indexOf('\x1f', s2 + 1);
      if (s3 < 0 || d === undefined) throw new Error('not an entry of this log');
      epoch = h!.slice(e1 + 1, e2);
      id = h!.slice(s3 + 1);
      const type = h!.slice(e2 + 3, s1);
      if (!isPublishedEventType(type)) throw new Error(`unknown type ${JSON.stringify(type)}`);
      event = sequencedEvent(type, h!.slice(s1 + 1, s2), h!.slice(s2 + 1, s3), seq, d);
    } catch (err) {
      logger.warn(`Redis: undecodable stream entry ${entryId}: ${String(err)}`);
    }
    out.push({ seq, epoch, id, event });
  }
  return out;
}
