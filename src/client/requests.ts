/**
 * Requests waiting for their reply. Replies are matched by `request_id` (PROTOCOL.md Part B 2) and must then be of
 * the expected type (or `error`); against a Part-A-only server, which echoes nothing, by reply type, first in first
 * out — the heartbeat's pings are queued here too, so their pongs never answer a user's `ping()`. A server answers in order except
 * `get_health`, whose reply (or error) may come after later replies: so an `error` answers the oldest request
 * that is not waiting for `health_update`, else the oldest.
 */
import { isPublishedEventType, type Envelope, type ServerEvent } from '../protocol/index.js';
import { ConnectionError, ProtocolError, ServerError, TimeoutError, type SigmaxError } from './errors.js';

interface Pending {
  id: string;
  expect: string;
  resolve: (event: ServerEvent) => void;
  reject: (error: SigmaxError) => void;
  timer: ReturnType<typeof setTimeout>;
  /** The heartbeat's: never answered by an `error`. */
  quiet?: boolean;
  /** Called synchronously when the request settles, before its promise does (see {@link OnSettle}). */
  onSettle?: OnSettle | undefined;
}

/**
 * A synchronous reaction to a reply (or failure), run in the frame path: a promise's `.then` would run after the
 * frames that arrived in the same socket read as the reply, so bookkeeping that must come before them (resume
 * position, gap, state) goes here.
 */
export type OnSettle = (reply: ServerEvent | undefined, error: SigmaxError | undefined) => void;

let counter = 0;
/** The reply type a server may send late (the reference server computes health metrics asynchronously). */
const LATE = 'health_update';
/**
 * What `get_subscriptions` expects: a `system_status` that lists `subscriptions`. Told apart by content, so that
 * the status a server sends on accept (which a request made right after `connect()` may see first) never answers it.
 */
export const SUBSCRIPTIONS = 'system_status+subscriptions';
const kindOf = (e: ServerEvent | Envelope): string =>
  e.type === 'system_status' && Array.isArray((e.data as { subscriptions?: unknown } | undefined)?.subscriptions) ? SUBSCRIPTIONS : e.type;
const COMMAND_REPLY = { get_status: 'system_status', get_portfolio: 'portfolio_update', get_health: 'health_update' } as const;
/** The reply type of each known command. */
export type CommandReply = typeof COMMAND_REPLY;
/**
 * The `expect` of a command: its reply type; for a command this version does not know, any type by `request_id`
 * (and, against Part A, a reply of the command's own name).
 */
export const replyOf = (name: string): string => (COMMAND_REPLY as Record<string, string>)[name] ?? `?${name}`;
const fits = (expect: string, kind: string, byId: boolean): boolean => expect === kind || (expect[0] === '?' && (byId || expect.slice(1) === kind));
const noop = (): void => {};

/** The registry of one client; a request lives from its send to its reply, timeout or connection loss. */
export class Requests {
  readonly #pending = new Map<string, Pending>();
  readonly #onMismatch: (error: ProtocolError) => void;

  /** `onMismatch` reports a reply of the wrong type (its request rejects with the same error). */
  constructor(onMismatch: (error: ProtocolError) => void) {
    this.#onMismatch = onMismatch;
  }

  /** Registers a request whose reply nobody awaits (the heartbeat's ping); returns its `request_id`. */
  quiet(expect: string, timeout: number): string {
    const { id, reply } = this.add(expect, timeout);
    reply.then(noop, noop);
    this.#pending.get(id)!.quiet = true;
    return id;
  }

  /** Registers a request expecting a reply of type `expect`; returns its `request_id` and the reply promise. */
  add(expect: string, timeout: number, onSettle?: OnSettle): { id: string; reply: Promise<ServerEvent> } {
    const id = `r${(++counter).toString(36)}`;
    const reply = new Promise<ServerEvent>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(id, new TimeoutError('COMMAND_TIMEOUT', `No \`${expect}\` reply within ${timeout} ms`)), timeout);
      this.#pending.set(id, { id, expect, resolve, reject, timer, onSettle });
    });
    return { id, reply };
  }

  /**
   * Offers a frame as a reply. With `byType` (Part A server), a frame without `request_id` answers the
   * oldest request expecting its type. Returns whether the frame was consumed.
   */
  settle(event: ServerEvent | Envelope, byType: boolean): boolean {
    let p: Pending | undefined;
    if (typeof event.request_id === 'string') p = this.#pending.get(event.request_id);
    // Part A: replies carry a connection_id, broadcasts don't (or null); pure reply types are never broadcast.
    else if (byType && (event.connection_id || !isPublishedEventType(event.type))) {
      const kind = kindOf(event);
      for (const q of this.#pending.values()) {
        if (fits(q.expect, kind, false)) {
          p = q;
          break;
        }
        if (event.type === 'error' && !q.quiet && (!p || (p.expect === LATE && q.expect !== LATE))) p = q;
      }
    }
    if (!p) return false;
    if (event.type === 'error') {
      const d = (event as ServerEvent<'error'>).data;
      this.#end(p, undefined, new ServerError(d.code, d.error, d.details));
    } else if (!fits(p.expect, kindOf(event), true)) {
      const err = new ProtocolError(`Request ${p.id} expected a \`${p.expect}\` reply, got \`${event.type}\``, event, 'UNEXPECTED_REPLY');
      this.#onMismatch(err);
      this.#end(p, undefined, err);
    } else {
      this.#end(p, event as ServerEvent, undefined);
    }
    return true;
  }

  /**
   * Sends `frame` as a request on `conn`; the promise of its reply rejects at once when the socket is not open.
   * `onSettle` runs synchronously when the reply is handled, before any later frame.
   */
  send(conn: { send(frame: object): boolean }, frame: { type: string; data?: object }, expect: string, timeout: number, onSettle?: OnSettle): Promise<ServerEvent> {
    const { id, reply } = this.add(expect, timeout, onSettle);
    if (!conn.send({ ...frame, request_id: id })) this.fail(id, new ConnectionError('NOT_CONNECTED', 'The socket is not open'));
    return reply;
  }

  /** Rejects one request (e.g. it could not be sent). */
  fail(id: string, error: SigmaxError): void {
    const p = this.#pending.get(id);
    if (p) this.#end(p, undefined, error);
  }

  /** Settles a request: its synchronous reaction first, then its promise. */
  #end(p: Pending, reply: ServerEvent | undefined, error: SigmaxError | undefined): void {
    clearTimeout(p.timer);
    this.#pending.delete(p.id);
    try {
      p.onSettle?.(reply, error);
    } finally {
      if (error) p.reject(error);
      else p.resolve(reply!);
    }
  }

  /** Rejects every pending request (connection lost or client closed). */
  failAll(error: SigmaxError): void {
    for (const id of [...this.#pending.keys()]) this.fail(id, error);
  }
}
