/** Types of the client's events and of what `listen()` yields. */
import type { Envelope, PublishedEventType, ServerEvent, StreamPosition } from '../protocol/index.js';
import type { SigmaxError } from './errors.js';

/** Connection states. `idle` before the first `connect()`, `closed` after `disconnect()` or a fatal close. */
export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Payload of the `state` event. */
export interface StateChange {
  from: ClientState;
  to: ClientState;
  /** Why, e.g. `connect()`, `connected`, `close 1001`, `heartbeat timeout`, `disconnect()`. */
  reason: string;
}

/** Payload of `open` and `reconnected`: what the server announced in `connected`. */
export interface OpenInfo {
  connectionId: string;
  /** `connected.data.protocol`; `undefined` for a Part-A-only server. */
  protocol: number | undefined;
  /** `connected.data.features` (empty for a Part-A-only server). */
  features: readonly string[];
  /** `connected.data.epoch` (event log name), if the server has sequenced events. */
  epoch: string | undefined;
  /** Whether events missed while away were recovered (`undefined` when no resume was attempted). */
  recovered: boolean | undefined;
}

/** Payload of the `close` event (one per socket that had opened or failed). */
export interface CloseInfo {
  code: number;
  reason: string;
  /** Whether the client will reconnect by itself. */
  willRetry: boolean;
}

/** Payload of the `reconnecting` event, fired when a backoff wait starts. */
export interface ReconnectingInfo {
  /** 1 for the first retry after a loss. */
  attempt: number;
  /** Wait before the attempt, in ms. */
  delay: number;
}

/**
 * Events may have been missed: the server could not resume from the last position
 * (another epoch — e.g. a restarted in-memory server — or a position older than its history).
 * Refetch state (e.g. `getPortfolio()`).
 */
export interface GapInfo {
  /** Epoch of the last event received before the gap. */
  epoch: string;
  /** `seq` of the last event received before the gap. */
  seq: number;
  /** The server's epoch now. */
  newEpoch: string | undefined;
  /** `epoch_changed` or `history_exceeded`. */
  reason: 'epoch_changed' | 'history_exceeded';
}

/** What `listen()` yields in place of the missed events when a gap happens. */
export interface GapMarker extends GapInfo {
  type: 'gap';
}

/** A published event (one with a topic: trades, market data, status, …). */
export type SigmaxEvent<T extends PublishedEventType = PublishedEventType> = ServerEvent<T>;

type Handler<A> = (arg: A) => void;

/** Every event the client emits, with its handler signature. */
export type ClientEvents = { [K in PublishedEventType]: Handler<ServerEvent<K>> } & {
  /** Every published event. */
  '*': Handler<SigmaxEvent>;
  state: Handler<StateChange>;
  open: Handler<OpenInfo>;
  close: Handler<CloseInfo>;
  reconnecting: Handler<ReconnectingInfo>;
  reconnected: Handler<OpenInfo>;
  gap: Handler<GapInfo>;
  /** Errors not owned by a pending call or iterator: invalid frames, unsolicited server errors, fatal closes. */
  error: Handler<SigmaxError>;
  /** A well-formed frame of a type this version does not know (a newer server). */
  unknown: Handler<Envelope>;
};

/** Name of a client event. */
export type ClientEventName = keyof ClientEvents;

/** Counters of `stats()`. */
export interface ClientStats {
  state: ClientState;
  connectionId: string | undefined;
  /** Successful reconnects since construction. */
  reconnects: number;
  /** Round-trip time of the last `ping()`, in ms. */
  lastRtt: number | undefined;
  /** Published events delivered to the application. */
  eventsReceived: number;
  /** Events dropped because their `seq` had been delivered already. */
  duplicatesDropped: number;
  /** Frames that failed parsing or validation. */
  invalidFrames: number;
  /** Events that `listen({ overflow: 'drop-oldest' })` iterators dropped because their consumer fell behind. */
  eventsDropped: number;
  /** `listen()` iterators not ended yet (a count that only grows points at iterators never consumed nor ended). */
  iterators: number;
  /** Last delivered stream position (resume). */
  position: StreamPosition | undefined;
}
