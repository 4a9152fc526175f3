/**
 * Resume (PROTOCOL.md Part B 4): replays retained events after a client's
 * position, page by page with back-pressure, then hands the session over to
 * live delivery with no gap and no duplicate.
 *
 * While `session.replay.queue` is null, live events for the session are skipped
 * (they will be read from the log). When a page comes back short, live events
 * are queued instead, one more read is made, and the queue is flushed (events
 * after `lastSent` only) before the session goes live.
 */
import { CloseCode, ErrorCode, type StreamPosition } from '../protocol/index.js';
import type { HistoryRead, SequencedEvent } from './log/types.js';
import type { ReplayState, Session } from './session.js';

/** Events read from the log per page... */
export const REPLAY_PAGE_SIZE = 100;
/**
 * ...and about this many bytes of data (at least one event): one page is written before the next
 * is read, so a resuming reader's backlog stays far below `maxBufferedBytes` whatever the event size.
 */
export const REPLAY_PAGE_BYTES = 256 * 1024;

/**
 * How long a resume waits for a history that the log cannot read for now (then it answers `recovered: false`), and
 * between its attempts.
 */
export const RESUME_WAIT_MS = 3000;
const RESUME_RETRY_MS = 250;

/** Whether a page is the last one (shorter than a full page both in count and in bytes). */
function isTail(events: readonly SequencedEvent[]): boolean {
  if (events.length >= REPLAY_PAGE_SIZE) return false;
  let bytes = 0;
  for (const e of events) bytes += e.json?.length ?? 0;
  return bytes < REPLAY_PAGE_BYTES;
}

const reasonOf = (r: HistoryRead): string => (r.ok ? '' : r.reason);

async function read(session: Session, epoch: string, after: number): Promise<HistoryRead> {
  try {
    return await session.ctx.log.readAfter(epoch, after, REPLAY_PAGE_SIZE, REPLAY_PAGE_BYTES);
  } catch (err) {
    session.ctx.options.logger?.warn('sigmax-ws: history read failed', err);
    return { ok: false, reason: 'unavailable' };
  }
}

/**
 * Starts a resume for `session` from `since`. Calls `reply(recovered, seq)` once,
 * before any replayed event. Never rejects.
 */
export function resume(session: Session, since: StreamPosition, reply: (recovered: boolean, seq: number) => void): void {
  const replay: ReplayState = { queue: null };
  session.replay = replay;
  // Where live delivery stood when live events started being skipped for this session.
  // (The log's position, not the hub's last dispatched seq: after an epoch change the
  // latter still holds a seq of the old epoch until the next event.)
  const pivot = session.ctx.log.status().lastSeq;
  run(session, replay, since, pivot, reply).catch((err: unknown) => {
    // e.g. an event that cannot be serialised: end this session, never the process.
    session.ctx.options.logger?.error('sigmax-ws: resume failed', err);
    if (session.replay === replay) session.fail(ErrorCode.INTERNAL_ERROR, CloseCode.INTERNAL_ERROR, 'Resume failed; reconnect to resume from your last seq');
  });
}

async function run(
  session: Session,
  replay: ReplayState,
  since: StreamPosition,
  pivot: number,
  reply: (recovered: boolean, seq: number) => void,
): Promise<void> {
  const { log } = session.ctx;
  const after = Math.max(since.seq, session.lastSent);
  const until = Date.now() + RESUME_WAIT_MS;
  let page = await read(session, since.epoch, after);
  if (session.replay !== replay) return;
  // The log cannot read its history for now (Redis not answering, or being checked after a reconnect): it may well be
  // there in a moment, so the resume waits for it a little rather than answer with a gap the client need not take.
  // (Each read may take the log's command timeout: the reply comes well within the SDK's command timeout, 10 s.)
  while (reasonOf(page) === 'unavailable' && Date.now() < until) {
    await new Promise((r) => setTimeout(r, RESUME_RETRY_MS).unref());
    if (session.replay !== replay) return;
    page = await read(session, since.epoch, after);
    if (session.replay !== replay) return;
  }
  const recovered = page.ok;
  if (recovered) {
    session.lastSent = after;
  } else {
    // Live events only, from where live delivery stood when this session started skipping them
    // (so none published meanwhile is lost), read back from the log...
    session.lastSent = Math.max(session.lastSent, pivot);
    page = await read(session, log.epoch, session.lastSent);
    if (session.replay !== replay) return;
    if (!page.ok) {
      // ...or, when the log no longer has them, from where live delivery stands now. The reply is
      // sent only now, so its seq is where this session's stream really continues (no silent gap).
      session.lastSent = Math.max(session.lastSent, session.ctx.hub.lastSeq);
      session.replay = null;
      reply(false, session.lastSent);
      return;
    }
  }
  reply(recovered, session.lastSent);

  for (;;) {
    if (!page.ok) {
      // The client is told, by the close, to resume again from its last seq: never a silent skip.
      if (reasonOf(page) === 'history_expired') {
        // The retained history moved past this session while it was replaying.
        session.fail(ErrorCode.SLOW_CONSUMER, CloseCode.TRY_AGAIN_LATER, 'Resume fell behind the retained history; reconnect to resume from your last seq');
      } else {
        session.fail(ErrorCode.INTERNAL_ERROR, CloseCode.INTERNAL_ERROR, `Resume interrupted (${reasonOf(page)}); reconnect to resume from your last seq`);
      }
      return;
    }
    let last: Buffer | undefined;
    for (const event of page.events) {
      if (event.seq <= session.lastSent) continue;
      session.lastSent = event.seq;
      const payload = session.ctx.hub.payloadFor(session, event);
      if (payload) {
        if (last && !session.sendEvent(last)) return;
        last = payload;
      }
    }
    if (last) {
      // Back-pressure: wait until this page is handed to the network before reading the next.
      const written = await new Promise<boolean>((resolve) => {
        if (!session.sendEvent(last, (err) => resolve(!err))) resolve(false);
      });
      if (!written || session.replay !== replay) return;
    }
    if (isTail(page.events)) {
      if (replay.queue === null) {
        replay.queue = []; // buffering: live events are queued from now on; one more read
      } else {
        // Tail reached while buffering: flush the queue and go live, synchronously.
        for (const event of replay.queue) {
          if (event.seq <= session.lastSent) continue;
          session.lastSent = event.seq;
          const payload = session.ctx.hub.payloadFor(session, event);
          if (payload && !session.sendEvent(payload)) break;
        }
        session.replay = null;
        return;
      }
    }
    page = await read(session, log.epoch, session.lastSent);
    if (session.replay !== replay) return;
  }
}
