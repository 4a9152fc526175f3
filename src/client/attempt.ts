/**
 * One connection attempt, from socket to restored: opens a {@link Connection}, restores the subscriptions once
 * `connected` arrives (`restore.ts`), and routes every frame to the pending requests, the handlers or the delivery.
 * The client's state machine decides what happens when the attempt opens or closes.
 */
import WebSocket from 'isomorphic-ws';
import { isPublishedEventType, type Envelope, type EventDataMap, type ServerEvent } from '../protocol/index.js';
import { Connection } from './connection.js';
import type { Delivery } from './delivery.js';
import { ProtocolError, ServerError, type SigmaxError } from './errors.js';
import type { OpenInfo, SigmaxEvent } from './events.js';
import type { Handlers } from './handlers.js';
import type { ResolvedOptions, WebSocketConstructor } from './options.js';
import type { Requests } from './requests.js';
import { restore, type RestoreContext } from './restore.js';
import type { SubscriptionLists, SubscriptionRegistry } from './subscriptions.js';

const noop = (): void => {};

/** What an attempt shares with the client, and the client's decisions. */
export interface AttemptHost {
  readonly options: ResolvedOptions;
  readonly handlers: Handlers;
  readonly requests: Requests;
  readonly subs: SubscriptionRegistry;
  readonly delivery: Delivery;
  readonly stats: { invalidFrames: number };
  /** Whether `conn` is still the client's current connection (not lost, not disconnected). */
  isCurrent(conn: Connection): boolean;
  /** `connected` arrived: the info of the connection being restored. */
  connected(info: OpenInfo): void;
  /** The restore is done (it succeeded or said so): the client opens. */
  restored(ctx: RestoreContext, sent: SubscriptionLists): void;
  /** The socket closed; `held`: the server's `error` frame that announced it. */
  lost(code: number, reason: string, error: SigmaxError, held: ServerError | undefined): void;
}

/** Starts an attempt. @throws what the WebSocket constructor throws (e.g. an invalid URL). */
export function openAttempt(host: AttemptHost, url: string): Connection {
  const { options: o, handlers: h, requests, delivery } = host;
  let epoch: string | undefined;
  const conn: Connection = new Connection((o.WebSocket ?? WebSocket) as WebSocketConstructor, url, o, {
    onConnected(d: EventDataMap['connected']) {
      const info: OpenInfo = { connectionId: d.connection_id, protocol: d.protocol ?? undefined, features: d.features ?? [], epoch: d.epoch ?? undefined, recovered: undefined };
      epoch = info.epoch;
      host.connected(info);
      const ctx: RestoreContext = {
        subs: host.subs, delivery, info, resume: o.resume,
        alive: () => host.isCurrent(conn),
        send: (frame, expect, onSettle) => void requests.send(conn, frame, expect, o.commandTimeout, onSettle).catch(noop), // handled by onSettle
        report: (e) => h.emit('error', e),
        gap: (g) => h.emit('gap', g),
        drop: (e) => conn.drop('restore not answered', e),
      };
      restore(ctx, (sent) => host.restored(ctx, sent));
    },
    onFrame(ev: ServerEvent | Envelope, known: boolean) {
      // A reply with a request_id that nothing waits for answers a request that already timed out: it was reported then.
      if (requests.settle(ev, conn.byType) || typeof ev.request_id === 'string') return;
      if (!known) return h.emit('unknown', ev as Envelope);
      const d = ev.data as EventDataMap['error'];
      if (ev.type === 'error') return h.emit('error', new ServerError(d.code, d.error, d.details));
      if (isPublishedEventType(ev.type)) delivery.deliver(ev as SigmaxEvent, epoch);
    },
    onInvalid(raw: unknown, message: string) {
      host.stats.invalidFrames++;
      h.emit('error', new ProtocolError(`Invalid frame from server: ${message}`, raw));
    },
    onClose: (code, reason, error, held) => host.lost(code, reason, error, held),
    heartbeat: () => ({ type: 'ping', request_id: requests.quiet('pong', o.commandTimeout) }),
  });
  return conn;
}
