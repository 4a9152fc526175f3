/**
 * `sigmax-ws`: the browser-safe client SDK — the client, its types, its errors and the protocol's constants.
 * Schemas, codecs and other protocol helpers live in `sigmax-ws/protocol`; the server in `sigmax-ws/server`.
 * @packageDocumentation
 */
export * from './client/index.js';
export {
  PROTOCOL_VERSION,
  WS_PATH,
  WSMessageType,
  WSEventType,
  SubscriptionTopic,
  TOPICS,
  EVENT_TOPIC,
  ErrorCode,
  CloseCode,
  Feature,
  type PublishedEventType,
  type TopicName,
} from './protocol/constants.js';
export type {
  Envelope,
  EnvelopeFields,
  EventDataMap,
  ServerEvent,
  ServerEventType,
  StreamPosition,
  TradeAction,
  TradeStatus,
  AnalysisDecision,
} from './protocol/shapes.js';
