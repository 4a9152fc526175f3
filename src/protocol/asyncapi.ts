/**
 * The AsyncAPI 3.0 description of the SIGMAX WebSocket API, generated from the protocol's zod schemas
 * (`z.toJSONSchema`): every client message, every server frame and each event's payload, the topics,
 * and the Part B additions (capabilities, `request_id`, `since`/`seq`, close codes, batched frames).
 * Served by the reference server at `GET /api/ws/asyncapi.json`; shipped as `dist/asyncapi.json`.
 */
import * as z from 'zod/mini';
import { CloseCode, ErrorCode, EVENT_TOPIC, Feature, PROTOCOL_VERSION, TOPICS, WS_PATH, type PublishedEventType } from './constants.js';
import {
  CommandMessageSchema,
  EnvelopeSchema,
  EVENT_DATA_SCHEMAS,
  GetStatusMessageSchema,
  GetSubscriptionsMessageSchema,
  PingMessageSchema,
  PongMessageSchema,
  SubscribeMessageSchema,
  UnsubscribeMessageSchema,
} from './schemas.js';
import type { ServerEventType } from './shapes.js';

/** A JSON document (what `JSON.parse` returns for an object). */
export type AsyncApiDocument = { asyncapi: '3.0.0' } & Record<string, unknown>;

const CLIENT_MESSAGES = {
  subscribe: [SubscribeMessageSchema, 'Subscribe to topics and/or symbols; `data.since` resumes from a stream position (Part B 4).'],
  unsubscribe: [UnsubscribeMessageSchema, 'Remove topics and/or symbols.'],
  ping: [PingMessageSchema, 'Application-level ping; answered with `pong`.'],
  pong: [PongMessageSchema, 'Answer to a server `ping`.'],
  command: [CommandMessageSchema, '`get_status`, `get_portfolio`, `get_health`; any other name gets `error` `UNKNOWN_COMMAND`.'],
  get_status: [GetStatusMessageSchema, 'Answered with `system_status`.'],
  get_subscriptions: [GetSubscriptionsMessageSchema, 'Answered with `system_status` `{subscriptions, count}`.'],
} as const;

const REPLY_DESCRIPTIONS: Partial<Record<ServerEventType, string>> = {
  connected: 'First frame of every connection. Part B 1: `protocol`, `features`; Part B 4: `epoch`.',
  subscribed: 'Reply to `subscribe`. Part B 4: `epoch`, `seq`, and `recovered` in answer to `since`.',
  unsubscribed: 'Reply to `unsubscribe`.',
  ping: 'Server heartbeat; answer with `pong`.',
  pong: 'Reply to `ping`.',
  error: 'An error; `data.code` is one of components.schemas.ErrorCode. Precedes a close that has a code.',
};

/** JSON Schema (draft-07, as AsyncAPI's default schema format expects) of a zod schema. */
function jsonSchema(schema: z.ZodMiniType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** The frame schema of a server event of `type`: the envelope with `type` fixed and `data` typed. */
function serverFrame(type: ServerEventType): z.ZodMiniType {
  return z.extend(EnvelopeSchema as unknown as z.ZodMiniObject, { type: z.literal(type), data: EVENT_DATA_SCHEMAS[type] as z.ZodMiniType });
}

const isPublished = (type: string): type is PublishedEventType => Object.prototype.hasOwnProperty.call(EVENT_TOPIC, type);

/** Generates the AsyncAPI 3.0 document (a fresh object on each call). */
export function asyncApiDocument(options: { host?: string; version?: string } = {}): AsyncApiDocument {
  const serverTypes = Object.keys(EVENT_DATA_SCHEMAS) as ServerEventType[];
  const published = serverTypes.filter(isPublished);
  const messages: Record<string, object> = {};
  const channelMessages: Record<string, object> = {};
  const operations: Record<string, object> = {};
  const add = (key: string, message: object) => {
    messages[key] = message;
    channelMessages[key] = { $ref: `#/components/messages/${key}` };
  };

  for (const [type, [schema, description]] of Object.entries(CLIENT_MESSAGES)) {
    const key = `client.${type}`;
    add(key, { name: type, title: `${type} (client → server)`, summary: description, payload: jsonSchema(schema) });
    operations[`receive_${type}`] = { action: 'receive', channel: { $ref: '#/channels/ws' }, messages: [{ $ref: `#/channels/ws/messages/${key}` }] };
  }
  for (const type of serverTypes) {
    const key = `server.${type}`;
    const topic = isPublished(type) ? EVENT_TOPIC[type] : undefined;
    add(key, {
      name: type,
      title: `${type} (server → client)`,
      summary: topic ? `Published event on topic \`${topic}\`; carries \`topic\` and \`seq\` (Part B 4).` : (REPLY_DESCRIPTIONS[type] ?? 'Reply or control frame.'),
      ...(topic ? { tags: [{ name: `topic:${topic}` }] } : {}),
      payload: jsonSchema(serverFrame(type)),
    });
    operations[`send_${type}`] = { action: 'send', channel: { $ref: '#/channels/ws' }, messages: [{ $ref: `#/channels/ws/messages/${key}` }] };
  }
  // Part B 7: several published events in one frame, each exactly the frame it would have been alone.
  const batch = z.looseObject({
    type: z.literal('batch'),
    events: z.array(z.union(published.map(serverFrame) as [z.ZodMiniType, z.ZodMiniType, ...z.ZodMiniType[]])),
  });
  add('server.batch', {
    name: 'batch',
    title: 'batch (server → client)',
    summary: 'Part B 7 (feature `batch`): published events delivered in one frame, `seq` increasing; only to a connection that asked with `?batch=1`.',
    payload: jsonSchema(batch),
  });
  operations.send_batch = { action: 'send', channel: { $ref: '#/channels/ws' }, messages: [{ $ref: '#/channels/ws/messages/server.batch' }] };

  const closeCodes = Object.entries(CloseCode)
    .map(([name, code]) => `${code} ${name}`)
    .join(', ');
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'SIGMAX WebSocket API',
      version: options.version ?? String(PROTOCOL_VERSION),
      description:
        'Real-time SIGMAX trading events (PROTOCOL.md). Every frame is one JSON object in a UTF-8 text frame. ' +
        `Part B additions announced in \`connected.data.features\`: ${[...Object.values(Feature), 'batch'].join(', ')}. ` +
        `Close codes (Part B 5): ${closeCodes}. Published events are routed to topics: ` +
        published.map((t) => `${t} → ${EVENT_TOPIC[t]}`).join(', ') +
        '. Generated from the zod schemas of sigmax-ws.',
      license: { name: 'MIT' },
    },
    defaultContentType: 'application/json',
    servers: {
      reference: { host: options.host ?? '127.0.0.1:8000', protocol: 'ws', pathname: WS_PATH, description: 'The sigmax-ws reference server (`wss` behind TLS).' },
    },
    channels: {
      ws: {
        address: WS_PATH,
        title: 'The SIGMAX WebSocket',
        description: 'One bidirectional channel: client messages in, replies and published events out.',
        messages: channelMessages,
        bindings: {
          ws: {
            query: jsonSchema(
              z.object({
                api_key: z.optional(z.string()),
                batch: z.optional(z.literal('1')),
                batch_ms: z.optional(z.string()),
              }),
            ),
          },
        },
      },
    },
    operations,
    components: {
      messages,
      schemas: {
        Topic: jsonSchema(z.enum(TOPICS as [string, ...string[]])),
        ErrorCode: jsonSchema(z.enum(Object.values(ErrorCode) as [string, ...string[]])),
        CloseCode: jsonSchema(z.literal(Object.values(CloseCode))),
      },
    },
  };
}
