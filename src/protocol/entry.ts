/**
 * `sigmax-ws/protocol`: the SIGMAX WebSocket protocol for tools that handle frames themselves — constants,
 * normalisation, codecs, the schemas of every frame, and the AsyncAPI document. Browser-safe.
 *
 * The schemas are zod 4 (mini) schemas, bundled in this entry: they are typed here by what they offer
 * (`parse`, `safeParse`, and Standard Schema's `~standard`), so you need no zod of your own.
 * @packageDocumentation
 */
import type { FrameIssue } from './codec.js';
import * as M from './messages.js';
import * as S from './schemas.js';
import type { EventDataMap, Envelope, StreamPosition } from './shapes.js';

export * from './constants.js';
export { SYMBOL_PREFIX, normalizeTopic, normalizeSymbol, normalizeSubscription, type NormalizeResult } from './normalize.js';
export { decodeJson, parseServerFrame, validateServerEvent, buildEvent, serialize, type FrameIssue, type ServerFrameResult, type EnvelopeExtras } from './codec.js';
export { SERVER_EVENT_TYPES, type Envelope, type EnvelopeFields, type EventDataMap, type ServerEvent, type ServerEventType, type StreamPosition } from './shapes.js';
export { asyncApiDocument, type AsyncApiDocument } from './asyncapi.js';

// Client message types, declared without zod's types (zod is bundled, not a dependency); the schema
// constants below are checked against them by the compiler.
type Loose = { [key: string]: unknown };
/** `data` of `subscribe` / `unsubscribe`. */
export type SubscriptionData = Loose & { topics?: unknown[]; symbols?: unknown[]; since?: StreamPosition };
type Message<T extends string, D> = Loose & { type: T; data: D; request_id?: string };
type DatalessMessage<T extends string> = Loose & { type: T; data?: unknown; request_id?: string };
export type SubscribeMessage = Message<'subscribe', SubscriptionData>;
export type UnsubscribeMessage = Message<'unsubscribe', SubscriptionData>;
export type CommandMessage = Message<'command', Loose & { command: string }>;
export type PingMessage = DatalessMessage<'ping'>;
export type PongMessage = DatalessMessage<'pong'>;
export type GetStatusMessage = DatalessMessage<'get_status'>;
export type GetSubscriptionsMessage = DatalessMessage<'get_subscriptions'>;
/** Any message a client may send. */
export type ClientMessage = SubscribeMessage | UnsubscribeMessage | CommandMessage | PingMessage | PongMessage | GetStatusMessage | GetSubscriptionsMessage;

/** One problem found by a schema. */
export interface SchemaIssue {
  readonly code: string;
  readonly message: string;
  readonly path: readonly PropertyKey[];
}

/** A schema of the protocol (a zod 4 mini schema at run time). */
export interface ProtocolSchema<T> {
  /** Returns the value, typed; throws on a value that does not conform. */
  parse(value: unknown): T;
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: readonly SchemaIssue[] } };
  /** Standard Schema v1 (https://standardschema.dev). */
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    validate(value: unknown): { value: T; issues?: undefined } | { issues: readonly { message: string }[] } | Promise<unknown>;
  };
}

/** The schema of each server event's `data`, by event type. */
export const EVENT_DATA_SCHEMAS: { readonly [K in keyof EventDataMap]: ProtocolSchema<EventDataMap[K]> } = S.EVENT_DATA_SCHEMAS;
/** Envelope fields common to every server event. */
export const EnvelopeSchema: ProtocolSchema<Envelope> = S.EnvelopeSchema;
/** A position in an event log (`{epoch, seq}`). */
export const StreamPositionSchema: ProtocolSchema<StreamPosition> = S.StreamPositionSchema;
/** `data` of `subscribe` / `unsubscribe`. */
export const SubscriptionDataSchema: ProtocolSchema<SubscriptionData> = S.SubscriptionDataSchema;
/** Any message a client may send. */
export const ClientMessageSchema: ProtocolSchema<ClientMessage> = S.ClientMessageSchema;
export const SubscribeMessageSchema: ProtocolSchema<SubscribeMessage> = S.SubscribeMessageSchema;
export const UnsubscribeMessageSchema: ProtocolSchema<UnsubscribeMessage> = S.UnsubscribeMessageSchema;
export const PingMessageSchema: ProtocolSchema<PingMessage> = S.PingMessageSchema;
export const PongMessageSchema: ProtocolSchema<PongMessage> = S.PongMessageSchema;
export const GetStatusMessageSchema: ProtocolSchema<GetStatusMessage> = S.GetStatusMessageSchema;
export const GetSubscriptionsMessageSchema: ProtocolSchema<GetSubscriptionsMessage> = S.GetSubscriptionsMessageSchema;
export const CommandMessageSchema: ProtocolSchema<CommandMessage> = S.CommandMessageSchema;

export type ClientFrameResult = { ok: true; message: ClientMessage } | { ok: false; issue: FrameIssue; /** echoed when it could be read */ request_id?: string };
/** Decodes and validates a frame received from a client (what the server does with each message). Never throws. */
export const parseClientFrame: (raw: unknown) => ClientFrameResult = M.parseClientFrame;
