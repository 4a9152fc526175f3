/** The sigmax-ws client. */
export { SigmaxWebSocketClient } from './client.js';
export type { ListenOptions } from './delivery.js';
export type { SubscriptionLists, SubscriptionRequest, SubscriptionResult } from './subscriptions.js';
export { connectSigmax } from './connect.js';
export type { ConnectSigmaxOptions } from './connect.js';
export { backoffDelay } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';
export { CLIENT_DEFAULTS } from './options.js';
export type { BatchOption } from './batch.js';
export type { ClientOptions, ConnectOptions, Logger, OverflowPolicy, WebSocketConstructor, WebSocketLike } from './options.js';
export type { ClientEvents, ClientEventName, ClientState, ClientStats, CloseInfo, GapInfo, GapMarker, OpenInfo, ReconnectingInfo, SigmaxEvent, StateChange } from './events.js';
export {
  isSigmaxError,
  SigmaxError,
  ConnectionError,
  TimeoutError,
  ServerError,
  AuthenticationError,
  ValidationError,
  ClosedError,
  ListenOverflowError,
  GapError,
  ProtocolError,
} from './errors.js';
