/**
 * Restore after every open: the recorded subscriptions in one `subscribe` (with `since` to resume where the stream
 * left off), then the changes the application made while that was in flight. It either succeeds or says so: a
 * refused subscription is reported with the server's code, dropped from the registry (never re-sent), and raises a
 * `gap` when it carried `since`.
 */
import { Feature, type ServerEvent, type StreamPosition } from '../protocol/index.js';
import type { Delivery } from './delivery.js';
import { ServerError, TimeoutError, type SigmaxError } from './errors.js';
import type { GapInfo, OpenInfo } from './events.js';
import type { OnSettle } from './requests.js';
import type { SubscriptionLists, SubscriptionRegistry } from './subscriptions.js';

/** What a restore needs from the client, bound to one connection attempt. */
export interface RestoreContext {
  subs: SubscriptionRegistry;
  delivery: Delivery;
  /** The attempt's `open` info; `recovered` is filled in. */
  info: OpenInfo;
  resume: boolean;
  /** Sends a request; `onSettle` handles its reply (or failure) synchronously in the frame path. */
  send(frame: { type: string; data: object }, expect: string, onSettle: OnSettle): void;
  /** Emits `error`. */
  report(error: SigmaxError): void;
  /** Emits `gap`. */
  gap(info: GapInfo): void;
  /** Whether the attempt is still the current one (not lost, not disconnected). */
  alive(): boolean;
  /** Ends the attempt as lost: the client reconnects (and resumes from the same position). */
  drop(error: SigmaxError): void;
}

const isEmpty = (l: SubscriptionLists): boolean => !l.topics.length && !l.symbols.length;
const names = (l: SubscriptionLists): string => [...l.topics, ...l.symbols.map((s) => `symbol:${s}`)].join(', ');

/** A refusal, reported with the server's code and what was dropped. */
function refused(e: ServerError, lists: SubscriptionLists): ServerError {
  return new ServerError(e.code, `${e.message} (subscription refused and no longer recorded: ${names(lists)})`, e.details);
}

/**
 * Sends the restoring `subscribe`; calls `done` with the lists it sent once answered or failed (unless the attempt
 * died), synchronously after any `gap`, so the client is open by the time an iterator sees the gap marker. The reply
 * is handled in the frame path, before the events the server sends after it (even in the same socket read): the
 * application sees the gap, the open, then those events, and the position is never set back by the reply.
 */
export function restore(ctx: RestoreContext, done: (sent: SubscriptionLists) => void): void {
  const { subs, delivery, info } = ctx;
  const sent = subs.snapshot();
  const since = ctx.resume && info.features.includes(Feature.RESUME) && info.epoch ? delivery.pos : undefined;
  if (!since && delivery.pos && delivery.pos.epoch !== info.epoch) delivery.pos = undefined;
  if (isEmpty(sent)) return done(sent);
  const gap = (keep?: StreamPosition): void => {
    info.recovered = false;
    if (since && ctx.alive()) ctx.gap(delivery.gap(since, info.epoch, keep));
  };
  ctx.send({ type: 'subscribe', data: since ? { ...sent, since } : sent }, 'subscribed', (ev, e) => {
    if (!ctx.alive()) return; // lost: the wishes stay recorded for the next attempt
    if (ev) {
      delivery.unanswered = undefined;
      const { data } = ev as ServerEvent<'subscribed'>;
      if (since) info.recovered = data.recovered ?? undefined;
      if (since && data.recovered === false) gap();
      delivery.adopt(data, info.epoch);
    } else if (e instanceof ServerError) {
      delivery.unanswered = undefined;
      subs.apply('unsubscribe', sent);
      ctx.report(refused(e, sent));
      if (since) gap();
    } else if (e) {
      ctx.report(e);
      if (since && e instanceof TimeoutError) {
        // A resume not answered in time: its late answer would be dropped, and it may say the stream could not be
        // recovered. It is made again on a new connection; not answered twice, it is a gap. A later resume still
        // starts from a position: the same one, or the start of the connection's new epoch (nothing of it was seen).
        const again = delivery.unanswered?.epoch === since.epoch && delivery.unanswered.seq === since.seq;
        delivery.unanswered = again ? undefined : since;
        if (!again) return ctx.drop(e);
        gap(info.epoch === since.epoch ? since : { epoch: info.epoch!, seq: 0 });
      }
    }
    if (ctx.alive()) done(sent);
  });
}

/** Sends what the application changed while the restore was in flight (queued calls); a refusal is dropped and reported. */
export function syncChanges(ctx: RestoreContext, before: SubscriptionLists): void {
  const { added, removed } = ctx.subs.diff(before);
  for (const [type, lists] of [['subscribe', added], ['unsubscribe', removed]] as const) {
    if (isEmpty(lists)) continue;
    ctx.send({ type, data: lists }, `${type}d`, (ev, e) => {
      if (ev) return void (type === 'subscribe' && ctx.delivery.adopt((ev as ServerEvent<'subscribed'>).data, ctx.info.epoch));
      if (!ctx.alive() || !e) return;
      if (type === 'subscribe' && e instanceof ServerError) {
        ctx.subs.apply('unsubscribe', lists);
        return ctx.report(refused(e, lists));
      }
      ctx.report(e);
    });
  }
}
