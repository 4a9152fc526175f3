/**
 * zod schemas of every frame in PROTOCOL.md. Server events' schemas are derived from
 * the shapes in `shapes.ts` (one declaration for types, schemas and the client's
 * validator); client messages are declared here. Objects are loose: unknown extra
 * fields are accepted and kept (forward compatibility).
 *
 * Every top-level construction is marked pure, so a bundle that uses none of the
 * schemas (a browser app using only the client) carries no zod at all.
 */
import * as z from 'zod/mini';
import { ENVELOPE, EVENT_DATA_SHAPES, STREAM_POSITION, type Infer, type Kind, type Shape } from './shapes.js';

/** Builds the zod schema of a shape. */
export function toZod<S extends Shape>(shape: S): z.ZodMiniType<Infer<S>> {
  let schema: z.ZodMiniType;
  if (typeof shape === 'string') {
    const kinds: Record<Kind, () => z.ZodMiniType> = {
      s: () => z.string(),
      n: () => z.number(),
      i: () => z.int().check(z.minimum(0)),
      b: () => z.boolean(),
      u: () => z.unknown(),
    };
    schema = kinds[shape as Kind]();
  } else if (Array.isArray(shape)) {
    schema = z.array(toZod(shape[0] as Shape));
  } else {
    const fields: Record<string, z.ZodMiniType> = {};
    for (const [key, sub] of Object.entries(shape as Record<string, Shape>)) {
      if (key.endsWith('?')) fields[key.slice(0, -1)] = z.optional(z.nullable(toZod(sub)));
      else fields[key] = toZod(sub);
    }
    schema = z.looseObject(fields);
  }
  return schema as z.ZodMiniType<Infer<S>>;
}

type DataShapes = typeof EVENT_DATA_SHAPES;

/** The zod schema of each server event's `data`. */
export const EVENT_DATA_SCHEMAS = /* @__PURE__ */ (() =>
  Object.fromEntries(Object.entries(EVENT_DATA_SHAPES).map(([type, shape]) => [type, toZod(shape)])) as {
    [K in keyof DataShapes]: z.ZodMiniType<Infer<DataShapes[K]>>;
  })();

/** Envelope fields common to every server event. */
export const EnvelopeSchema = /* @__PURE__ */ toZod(ENVELOPE);
/** Position in an event log. */
export const StreamPositionSchema = /* @__PURE__ */ toZod(STREAM_POSITION);

// ---------------------------------------------------------------------------
// Client → server
// ---------------------------------------------------------------------------

/** Longest accepted `request_id`, in code points (not UTF-16 units: 128 emoji are accepted). */
export const MAX_REQUEST_ID_LENGTH = 128;

/** Whether `s` has at most `max` code points (no allocation in the common short case). */
export function withinCodePoints(s: string, max: number): boolean {
  if (s.length <= max) return true;
  if (s.length > max * 2) return false;
  let n = 0;
  for (const _ of s) if (++n > max) return false;
  return true;
}

const requestId = /* @__PURE__ */ z.optional(
  /* @__PURE__ */ z.string().check(
    /* @__PURE__ */ z.refine((s: string) => withinCodePoints(s, MAX_REQUEST_ID_LENGTH), { message: `Too long: at most ${MAX_REQUEST_ID_LENGTH} code points` }),
  ),
);

export const SubscriptionDataSchema = /* @__PURE__ */ z.looseObject({
  topics: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.array(/* @__PURE__ */ z.unknown())),
  symbols: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.array(/* @__PURE__ */ z.unknown())),
  /** Part B 4: resume from this position. */
  since: /* @__PURE__ */ z.optional(StreamPositionSchema),
});

const message = <T extends string, D extends z.ZodMiniType>(type: T, data: D) =>
  z.looseObject({ type: z.literal(type), data, request_id: requestId });
const optionalData = /* @__PURE__ */ z.optional(/* @__PURE__ */ z.unknown());

export const SubscribeMessageSchema = /* @__PURE__ */ message('subscribe', SubscriptionDataSchema);
export const UnsubscribeMessageSchema = /* @__PURE__ */ message('unsubscribe', SubscriptionDataSchema);
export const PingMessageSchema = /* @__PURE__ */ message('ping', optionalData);
export const PongMessageSchema = /* @__PURE__ */ message('pong', optionalData);
export const GetStatusMessageSchema = /* @__PURE__ */ message('get_status', optionalData);
export const GetSubscriptionsMessageSchema = /* @__PURE__ */ message('get_subscriptions', optionalData);
export const CommandMessageSchema = /* @__PURE__ */ message(
  'command',
  /* @__PURE__ */ z.looseObject({ command: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.minLength(1), /* @__PURE__ */ z.maxLength(128)) }),
);

/** Any message a client may send. */
export const ClientMessageSchema = /* @__PURE__ */ z.discriminatedUnion('type', [
  SubscribeMessageSchema,
  UnsubscribeMessageSchema,
  PingMessageSchema,
  PongMessageSchema,
  GetStatusMessageSchema,
  GetSubscriptionsMessageSchema,
  CommandMessageSchema,
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;
export type SubscribeMessage = z.infer<typeof SubscribeMessageSchema>;
export type CommandMessage = z.infer<typeof CommandMessageSchema>;

/** Formats zod issues as `path: problem; …` (no locale bundle needed). */
export function formatIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const path = i.path.length ? i.path.join('.') : '(root)';
      const expected = 'expected' in i && i.expected ? `expected ${String(i.expected)}` : i.code.replace(/_/g, ' ');
      return `${path}: ${expected}`;
    })
    .join('; ');
}
