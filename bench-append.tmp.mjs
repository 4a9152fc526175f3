// test/redis/bench-append.ts
import { randomUUID as randomUUID3 } from "node:crypto";
import { createClient as createClient2 } from "redis";

// src/server/log/redis.ts
import { createHash as createHash2, randomBytes } from "node:crypto";
import { ErrorReply } from "redis";

// src/protocol/constants.ts
var WSMessageType = {
  SUBSCRIBE: "subscribe",
  UNSUBSCRIBE: "unsubscribe",
  PING: "ping",
  PONG: "pong",
  COMMAND: "command",
  GET_STATUS: "get_status",
  GET_SUBSCRIPTIONS: "get_subscriptions"
};
var SubscriptionTopic = {
  ALL: "all",
  PROPOSALS: "proposals",
  EXECUTIONS: "executions",
  ANALYSIS: "analysis",
  STATUS: "status",
  MARKET: "market",
  PORTFOLIO: "portfolio",
  HEALTH: "health",
  ALERTS: "alerts"
};
var TOPICS = Object.values(SubscriptionTopic);
var EVENT_TOPIC = {
  proposal_created: "proposals",
  proposal_approved: "proposals",
  trade_executed: "executions",
  analysis_update: "analysis",
  system_status: "status",
  status_change: "status",
  market_update: "market",
  portfolio_update: "portfolio",
  health_update: "health",
  alert: "alerts",
  warning: "alerts"
};
function isPublishedEventType(type) {
  return Object.prototype.hasOwnProperty.call(EVENT_TOPIC, type);
}
var CloseCode = {
  NORMAL: 1e3,
  GOING_AWAY: 1001,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  /** Dead connection detected by the heartbeat. */
  HEARTBEAT_TIMEOUT: 4e3
};
var FATAL_CLOSE_CODES = /* @__PURE__ */ new Set([CloseCode.POLICY_VIOLATION]);

// src/protocol/schemas.ts
import * as z from "zod/mini";
var str = z.string();
var num = z.number();
var optStr = z.optional(z.nullable(z.string()));
var optNum = z.optional(z.nullable(z.number()));
var strList = z.array(z.string());
var StreamPositionSchema = z.looseObject({
  epoch: str,
  seq: z.int().check(z.minimum(0))
});
var requestId = z.optional(z.string().check(z.maxLength(128)));
var SubscriptionDataSchema = z.looseObject({
  topics: z.optional(z.array(z.unknown())),
  symbols: z.optional(z.array(z.unknown())),
  /** Part B 4: resume from this position. */
  since: z.optional(StreamPositionSchema)
});
var SubscribeMessageSchema = z.looseObject({
  type: z.literal("subscribe"),
  data: SubscriptionDataSchema,
  request_id: requestId
});
var UnsubscribeMessageSchema = z.looseObject({
  type: z.literal("unsubscribe"),
  data: SubscriptionDataSchema,
  request_id: requestId
});
var noDataMessage = (type) => z.looseObject({ type: z.literal(type), data: z.optional(z.unknown()), request_id: requestId });
var PingMessageSchema = noDataMessage("ping");
var PongMessageSchema = noDataMessage("pong");
var GetStatusMessageSchema = noDataMessage("get_status");
var GetSubscriptionsMessageSchema = noDataMessage("get_subscriptions");
var CommandMessageSchema = z.looseObject({
  type: z.literal("command"),
  data: z.looseObject({ command: z.string().check(z.minLength(1), z.maxLength(128)) }),
  request_id: requestId
});
var ClientMessageSchema = z.discriminatedUnion("type", [
  SubscribeMessageSchema,
  UnsubscribeMessageSchema,
  PingMessageSchema,
  PongMessageSchema,
  GetStatusMessageSchema,
  GetSubscriptionsMessageSchema,
  CommandMessageSchema
]);
var ConnectedDataSchema = z.looseObject({
  message: z.optional(str),
  server_version: z.optional(str),
  connection_id: str,
  available_topics: z.optional(strList),
  instructions: z.optional(str),
  /** Part B 1. Absent from a Part A server. */
  protocol: z.optional(z.int()),
  features: z.optional(strList),
  /** Part B 4: names the event log. */
  epoch: z.optional(str)
});
var SubscriptionResultSchema = z.looseObject({
  topics: strList,
  symbols: strList,
  message: z.optional(str),
  /** Part B 4: answer to `since`. */
  recovered: z.optional(z.boolean()),
  epoch: z.optional(str),
  /**
   * Part B 4, with `since`: the position (in `epoch`) from which this connection now receives
   * every matching event. Equal to `since.seq` when recovered; where live delivery stood when not.
   */
  seq: z.optional(z.int().check(z.minimum(0)))
});
var PongDataSchema = z.looseObject({ message: z.optional(str) });
var ErrorDataSchema = z.looseObject({
  error: str,
  code: str,
  details: z.optional(z.unknown())
});
var SystemStatusDataSchema = z.looseObject({
  initialized: z.optional(z.boolean()),
  running: z.optional(z.boolean()),
  paused: z.optional(z.boolean()),
  mode: optStr,
  risk_profile: optStr,
  uptime: optNum,
  subscriptions: z.optional(strList),
  count: optNum
});
var StatusChangeDataSchema = z.looseObject({});
var ProposalCreatedDataSchema = z.looseObject({
  proposal_id: str,
  symbol: str,
  action: str,
  size: num,
  reason: optStr
});
var ProposalApprovedDataSchema = z.looseObject({
  proposal_id: str,
  approved_by: optStr,
  approved_at: optStr
});
var TradeExecutedDataSchema = z.looseObject({
  proposal_id: str,
  symbol: str,
  action: str,
  size: num,
  filled_price: num,
  order_id: str,
  status: str
});
var AnalysisUpdateDataSchema = z.looseObject({
  symbol: str,
  decision: str,
  confidence: num,
  bull_score: num,
  bear_score: num,
  reasoning: optStr
});
var MarketEntrySchema = z.looseObject({
  symbol: str,
  price: num,
  volume_24h: num,
  change_24h: num
});
var MarketUpdateDataSchema = z.array(MarketEntrySchema);
var PositionSchema = z.looseObject({ symbol: str });
var PortfolioUpdateDataSchema = z.looseObject({
  total_value: num,
  available_cash: num,
  positions: z.array(PositionSchema),
  total_pnl: num,
  total_pnl_percent: num
});
var HealthUpdateDataSchema = z.looseObject({
  cpu_percent: num,
  memory_percent: num,
  disk_percent: num,
  process_count: num
});
var AlertDataSchema = z.looseObject({
  message: optStr,
  level: optStr,
  symbol: optStr
});
var EVENT_DATA_SCHEMAS = {
  connected: ConnectedDataSchema,
  subscribed: SubscriptionResultSchema,
  unsubscribed: SubscriptionResultSchema,
  ping: z.optional(z.unknown()),
  pong: z.optional(PongDataSchema),
  error: ErrorDataSchema,
  proposal_created: ProposalCreatedDataSchema,
  proposal_approved: ProposalApprovedDataSchema,
  trade_executed: TradeExecutedDataSchema,
  analysis_update: AnalysisUpdateDataSchema,
  system_status: SystemStatusDataSchema,
  status_change: StatusChangeDataSchema,
  market_update: MarketUpdateDataSchema,
  portfolio_update: PortfolioUpdateDataSchema,
  health_update: HealthUpdateDataSchema,
  alert: AlertDataSchema,
  warning: AlertDataSchema
};
var EnvelopeSchema = z.looseObject({
  type: str,
  data: z.optional(z.unknown()),
  /** ISO-8601; SIGMAX 2.0 omits the time zone. */
  timestamp: z.optional(str),
  connection_id: optStr,
  /** Part B 2: echo of the request's `request_id`. */
  request_id: optStr,
  /** Part B 4: topic and position of a published event. */
  topic: optStr,
  seq: z.optional(z.int().check(z.minimum(0)))
});
var SERVER_EVENT_TYPES = Object.keys(EVENT_DATA_SCHEMAS);

// src/protocol/codec.ts
var CLIENT_TYPES = new Set(Object.values(WSMessageType));
function formatIssues(error) {
  return error.issues.slice(0, 5).map((i) => {
    const path = i.path.length ? i.path.join(".") : "(root)";
    const expected = "expected" in i && i.expected ? `expected ${String(i.expected)}` : i.code.replace(/_/g, " ");
    return `${path}: ${expected}`;
  }).join("; ");
}

// src/server/log/redis-connections.ts
import { createClient } from "redis";
var SILENT = { debug() {
}, info() {
}, warn() {
}, error() {
} };
function makeClient(url2, maxDelay, connectTimeout, offlineQueue) {
  return createClient({
    url: url2,
    RESP: 2,
    disableOfflineQueue: !offlineQueue,
    socket: {
      connectTimeout,
      // Full jitter over a capped exponential: 100 ms, 200 ms, … up to maxDelay.
      reconnectStrategy: (retries) => Math.round(Math.random() * Math.min(100 * 2 ** retries, maxDelay))
    }
  });
}
var RedisConnections = class {
  cmd;
  reader;
  /** Keeps an offline queue so its subscription is sent once it connects. */
  sub;
  #logger;
  #waiters = /* @__PURE__ */ new Set();
  #down = false;
  #closed = false;
  constructor(options) {
    const { url: url2, reconnectMaxDelay, connectTimeout } = options;
    this.#logger = options.logger;
    this.cmd = makeClient(url2, reconnectMaxDelay, connectTimeout, false);
    this.reader = makeClient(url2, reconnectMaxDelay, connectTimeout, false);
    this.sub = makeClient(url2, reconnectMaxDelay, connectTimeout, true);
    for (const [name, client] of [["cmd", this.cmd], ["reader", this.reader], ["sub", this.sub]]) {
      client.on("error", (err) => this.#onError(name, err));
      client.on("ready", () => this.#onReady());
    }
  }
  /** Whether the command and reader connections are both ready. */
  get ready() {
    return !this.#closed && this.cmd.isReady && this.reader.isReady;
  }
  /**
   * Starts connecting all three. Resolves `true` once `cmd` and `reader` are ready, or `false`
   * at the first connection error or after `timeoutMs` (they keep retrying in the background).
   */
  connect(timeoutMs) {
    for (const client of [this.cmd, this.reader, this.sub]) {
      client.connect().catch(() => {
      });
    }
    return new Promise((resolve) => {
      const done = (ok) => {
        clearTimeout(timer);
        this.cmd.off("error", fail);
        this.#waiters.delete(check);
        resolve(ok);
      };
      const fail = () => done(false);
      const check = () => {
        if (this.ready || this.#closed) done(this.ready);
      };
      const timer = setTimeout(fail, timeoutMs);
      this.cmd.on("error", fail);
      this.#waiters.add(check);
      check();
    });
  }
  /** Resolves when `cmd` and `reader` are ready, after `delayMs` at the earliest, or at close. */
  whenReady(delayMs = 0) {
    return new Promise((resolve) => {
      let timer;
      const check = () => {
        if (this.#closed || timer === void 0 && this.ready) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve();
        }
      };
      this.#waiters.add(check);
      if (delayMs > 0) {
        timer = setTimeout(() => {
          timer = void 0;
          check();
        }, delayMs);
      }
      check();
    });
  }
  /** Resolves `true` once `cmd` is ready, `false` after `timeoutMs` or at close. */
  whenCmdReady(timeoutMs) {
    return new Promise((resolve) => {
      const check = (expired = false) => {
        if (this.#closed || expired || this.cmd.isReady) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve(!this.#closed && this.cmd.isReady);
        }
      };
      const timer = setTimeout(() => check(true), timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
  /** Destroys the three connections (pending commands reject, the blocking read ends). */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    for (const wake of [...this.#waiters]) wake();
    const cmd = this.cmd;
    if (cmd.isReady) {
      let timer;
      await Promise.race([cmd.close().catch(() => {
      }), new Promise((r) => timer = setTimeout(r, 1e3))]);
      clearTimeout(timer);
    }
    for (const client of [cmd, this.reader, this.sub]) client.destroy();
  }
  #onReady() {
    if (this.#down && this.ready) {
      this.#down = false;
      this.#logger.info("Redis connection restored");
    }
    for (const wake of [...this.#waiters]) wake();
  }
  #onError(name, err) {
    if (this.#closed) return;
    const message = err instanceof Error ? err.message : String(err);
    if (!this.#down) {
      this.#down = true;
      this.#logger.warn(`Redis connection lost (${name}): ${message}; reconnecting`);
    } else {
      this.#logger.debug(`Redis ${name}: ${message}`);
    }
  }
};

// src/server/log/redis-store.ts
import { randomUUID } from "node:crypto";

// src/server/log/redis-entries.ts
function parseEntries(raw, logger) {
  const out = [];
  for (const [id, fields] of raw) {
    const seq = Number.parseInt(id, 10);
    const f = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
    let event2;
    try {
      const type = f.ty ?? "";
      if (!isPublishedEventType(type)) throw new Error(`unknown type ${JSON.stringify(type)}`);
      event2 = { type, topic: f.tp ?? "", timestamp: f.ts ?? "", data: JSON.parse(f.d ?? "null"), seq };
    } catch (err) {
      logger.warn(`Redis: undecodable stream entry ${id}: ${String(err)}`);
    }
    out.push({ seq, epoch: f.ep, event: event2 });
  }
  return out;
}

// src/server/log/redis-scripts.ts
import { createHash } from "node:crypto";
var ENSURE_EPOCH = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;
var SYNC_SCRIPT = `${ENSURE_EPOCH}
return {epoch, tonumber(redis.call('HGET', KEYS[1], 'seq'))}
`;
var APPEND_SCRIPT = `${ENSURE_EPOCH}
if ARGV[10] == '1' then
  for _, e in ipairs(redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1000)) do
    local f = e[2]
    for i = 1, #f, 2 do
      if f[i] == 'id' and f[i + 1] == ARGV[9] then return {epoch, tonumber(string.match(e[1], '^(%d+)'))} end
    end
  end
end
if ARGV[8] ~= '0' then
  if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[8]) then
    return {epoch, 0}
  end
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local now = nowMs()
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], string.format('%d-0', seq),
  'ep', epoch, 'ty', ARGV[2], 'tp', ARGV[3], 'ts', ARGV[4], 'd', ARGV[5], 't', string.format('%d', now), 'id', ARGV[9])
local cutoff = now - tonumber(ARGV[7])
local head = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
local function entryTime(entry)
  local f = entry[2]
  for i = 1, #f, 2 do
    if f[i] == 't' then return tonumber(f[i + 1]) end
  end
  return 0
end
if head[1] and entryTime(head[1]) < cutoff then
  local batch = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 100)
  local lastExpired = nil
  for _, e in ipairs(batch) do
    if entryTime(e) < cutoff then lastExpired = e[1] else break end
  end
  if lastExpired then
    local s = tonumber(string.match(lastExpired, '^(%d+)'))
    redis.call('XTRIM', KEYS[2], 'MINID', string.format('%d-0', s + 1))
  end
end
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return {epoch, seq}
`;
var READ_SCRIPT = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if epoch ~= ARGV[1] then return {'epoch_mismatch'} end
local last = tonumber(redis.call('HGET', KEYS[1], 'seq'))
local after = tonumber(ARGV[2])
if after > last then return {'epoch_mismatch'} end
if after == last then return {'ok', {}} end
if after + 1 < last - tonumber(ARGV[4]) + 1 then return {'history_expired'} end
local first = string.format('%d-0', after + 1)
local entries = redis.call('XRANGE', KEYS[2], first, '+', 'COUNT', ARGV[3])
if not entries[1] or entries[1][1] ~= first then return {'history_expired'} end
local f = entries[1][2]
local t = 0
for i = 1, #f, 2 do
  if f[i] == 't' then t = tonumber(f[i + 1]) end
end
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if t < ms - tonumber(ARGV[5]) then return {'history_expired'} end
return {'ok', entries}
`;
function script(source) {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}
var RedisTimeoutError = class extends Error {
  name = "RedisTimeoutError";
  constructor(ms) {
    super(`Redis did not answer within ${ms} ms`);
  }
};
function withTimeout(promise, ms) {
  if (ms === void 0) return promise;
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeoutError(ms)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
async function runScript(client, s, keys, args, timeout) {
  const tail = [String(keys.length), ...keys, ...args];
  const options = timeout === void 0 ? void 0 : { timeout };
  try {
    return await withTimeout(client.sendCommand(["EVALSHA", s.sha, ...tail], options), timeout);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
    return await withTimeout(client.sendCommand(["EVAL", s.source, ...tail], options), timeout);
  }
}

// src/server/log/redis-store.ts
var MIN_STORE_SIZE = 1e3;
var MIN_STORE_MS = 6e4;
var RedisLogStore = class {
  keys;
  #o;
  #storeSize;
  #storeMs;
  #scripts = { sync: script(SYNC_SCRIPT), append: script(APPEND_SCRIPT), read: script(READ_SCRIPT) };
  constructor(options) {
    const p = options.prefix;
    this.keys = { log: `${p}:log`, events: `${p}:events`, channel: `${p}:broadcast`, ingest: `${p}:ingest:` };
    this.#o = options;
    this.#storeSize = String(Math.max(options.historySize, MIN_STORE_SIZE));
    this.#storeMs = String(Math.max(Math.ceil(options.historyTtl), MIN_STORE_MS));
  }
  /** The current epoch (created with an empty log if Redis lost it) and its last seq. */
  async sync(client) {
    const [epoch, seq] = await runScript(client, this.#scripts.sync, [this.keys.log, this.keys.events], [randomUUID()], this.#o.timeout);
    return { epoch, seq: Number(seq) };
  }
  /**
   * Appends `event` and returns its seq, or 0 when `dedupeKey` was already taken (a legacy message
   * another instance sequenced). `retry`: skip if `appendId` is already in the stream.
   */
  async append(client, event2, topic, appendId, retry, dedupeKey) {
    const [, seq] = await runScript(
      client,
      this.#scripts.append,
      [this.keys.log, this.keys.events, dedupeKey ?? `${this.keys.ingest}-`],
      [
        randomUUID(),
        event2.type,
        topic,
        event2.timestamp,
        JSON.stringify(event2.data),
        this.#storeSize,
        this.#storeMs,
        dedupeKey ? String(this.#o.ingestDedupeTtl) : "0",
        appendId,
        retry ? "1" : "0"
      ],
      this.#o.timeout
    );
    return Number(seq);
  }
  /** `readAfter` against the configured window (`historySize` seqs, `historyTtl` ms). */
  async read(client, epoch, after, limit) {
    const reply = await runScript(
      client,
      this.#scripts.read,
      [this.keys.log, this.keys.events],
      [epoch, String(after), String(Math.max(1, limit)), String(this.#o.historySize), String(this.#o.historyTtl)],
      this.#o.timeout
    );
    if (reply[0] !== "ok") return { ok: false, reason: reply[0] };
    const events = parseEntries(reply[1] ?? [], this.#o.logger).flatMap((e) => e.event ? [e.event] : []);
    return { ok: true, events };
  }
  /** The epoch Redis holds now (`null` if none). */
  currentEpoch(client) {
    return withTimeout(client.sendCommand(["HGET", this.keys.log, "epoch"]), this.#o.timeout);
  }
};

// src/server/log/redis-local.ts
import { randomUUID as randomUUID2 } from "node:crypto";
var LocalFallbackLog = class {
  /** Seqs start at `base + 1`. */
  constructor(historySize, historyTtl, base = 0) {
    this.historySize = historySize;
    this.historyTtl = historyTtl;
    this.#seq = base;
  }
  historySize;
  historyTtl;
  /** Names this fallback log; never equal to a Redis epoch. */
  epoch = `local-${randomUUID2()}`;
  #seq;
  #events = [];
  get lastSeq() {
    return this.#seq;
  }
  /** Gives `event` the next seq and retains it (bounded by size; the fallback is meant to be short-lived). */
  append(event2) {
    const sequenced = { ...event2, seq: ++this.#seq };
    if (this.historySize > 0) {
      this.#events.push({ event: sequenced, at: Date.now() });
      if (this.#events.length > this.historySize) this.#events.shift();
    }
    return sequenced;
  }
  /** Same contract as `EventLog.readAfter`, over the events retained here. */
  readAfter(epoch, after, limit) {
    if (epoch !== this.epoch || after > this.#seq) return { ok: false, reason: "epoch_mismatch" };
    if (after === this.#seq) return { ok: true, events: [] };
    const cutoff = Date.now() - this.historyTtl;
    const first = after + 1 - (this.#events[0]?.event.seq ?? Infinity);
    const entry = this.#events[first];
    if (first < 0 || !entry || entry.at < cutoff) return { ok: false, reason: "history_expired" };
    return { ok: true, events: this.#events.slice(first, first + limit).map((e) => e.event) };
  }
};

// src/server/log/redis-legacy.ts
function isObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function parseLegacyMessage(raw) {
  let value;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  if (!isObject(value) || !isObject(value.message)) {
    return { ok: false, reason: 'expected {"topic": T, "message": {type, data, timestamp}}' };
  }
  const { type, data: data2, timestamp } = value.message;
  if (typeof type !== "string" || !isPublishedEventType(type)) {
    return { ok: false, reason: `not a published event type: ${JSON.stringify(type)?.slice(0, 64)}` };
  }
  const parsed = EVENT_DATA_SCHEMAS[type].safeParse(data2);
  if (!parsed.success) return { ok: false, reason: `${type} data: ${formatIssues(parsed.error)}` };
  if (timestamp !== void 0 && typeof timestamp !== "string") {
    return { ok: false, reason: "timestamp must be an ISO-8601 string" };
  }
  return { ok: true, event: { type, data: data2, timestamp: timestamp ?? (/* @__PURE__ */ new Date()).toISOString() } };
}

// src/server/log/redis.ts
var READ_COUNT = 500;
var READ_BLOCK_MS = 1e3;
var LOCAL_SEQ_OFFSET = 1e9;
var RedisEventLog = class {
  #options;
  #logger;
  #conn;
  #store;
  #mode = "new";
  #epoch = "";
  #lastSeq = 0;
  #local;
  #onEvent = () => {
  };
  #loop;
  /** The blocking read is overdue: Redis accepts connections but does not answer. */
  #stalled = false;
  /** The epoch was checked since the reader last failed (status() waits for it after a reconnect). */
  #synced = false;
  constructor(options) {
    if (typeof options?.url !== "string" || options.url === "") {
      throw new TypeError(`RedisEventLog: url must be a non-empty string, got ${typeof options?.url}`);
    }
    for (const key of ["historySize", "historyTtl"]) {
      const v = options[key];
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`RedisEventLog: ${key} must be a number >= 0, got ${String(v)}`);
    }
    this.#options = options;
    this.#logger = options.logger ?? SILENT;
    this.#store = new RedisLogStore({
      prefix: options.keyPrefix ?? "sigmax",
      historySize: options.historySize,
      historyTtl: options.historyTtl,
      timeout: this.#timeout,
      ingestDedupeTtl: options.ingestDedupeTtl ?? 6e4,
      logger: this.#logger
    });
    this.#conn = new RedisConnections({
      url: options.url,
      reconnectMaxDelay: options.reconnectMaxDelay ?? 2e3,
      connectTimeout: 5e3,
      logger: this.#logger
    });
  }
  get #timeout() {
    return this.#options.commandTimeout ?? 2e3;
  }
  get #closed() {
    return this.#mode === "closed";
  }
  get epoch() {
    return this.#epoch;
  }
  /**
   * Connects and resolves once the log is usable: on the shared log when Redis answers,
   * otherwise (first connection attempt failed) in local fallback, reconnecting in the background.
   */
  async start(onEvent) {
    if (this.#mode !== "new") throw new Error("RedisEventLog.start() may be called once");
    this.#onEvent = onEvent;
    const up = await this.#conn.connect(this.#timeout);
    const subscribed = this.#conn.sub.subscribe(this.#store.keys.channel, (message) => void this.#ingest(message)).catch((err) => {
      if (this.#mode !== "closed") this.#logger.warn(`Redis: subscribing to ${this.#store.keys.channel} failed: ${String(err)}`);
    });
    if (up) {
      try {
        await this.#sync();
        await withTimeout(subscribed, this.#timeout);
      } catch (err) {
        this.#logger.warn(`Redis: start: ${String(err)}`);
      }
    }
    if (this.#mode === "new") this.#enterLocal();
    this.#loop = this.#run();
  }
  async append(event2) {
    await this.#commit(event2, null);
  }
  async readAfter(epoch, after, limit) {
    if (this.#mode === "local") {
      return this.#local.readAfter(epoch, after, limit);
    }
    if (this.#mode !== "shared" || !this.#conn.cmd.isReady) return { ok: false, reason: "unavailable" };
    try {
      return await this.#store.read(this.#conn.cmd, epoch, after, limit);
    } catch (err) {
      this.#logger.warn(`Redis: history read failed: ${String(err)}`);
      return { ok: false, reason: "unavailable" };
    }
  }
  status() {
    return {
      backend: "redis",
      connected: this.#mode === "shared" && this.#synced && this.#conn.ready && !this.#stalled,
      epoch: this.#epoch,
      lastSeq: this.#lastSeq
    };
  }
  /** Quits the connections (ending the blocking read); the process can then exit. Idempotent. */
  async close() {
    if (this.#mode === "closed") return;
    this.#mode = "closed";
    this.#onEvent = () => {
    };
    await this.#conn.close();
    await this.#loop;
  }
  /** Sequences `event` in Redis (deduplicated by `dedupeKey` if given), else locally. */
  async #commit(event2, dedupeKey) {
    if (this.#mode === "closed") throw new Error("RedisEventLog is closed");
    if (this.#mode === "new") throw new Error("RedisEventLog.start() has not been called");
    const topic = EVENT_TOPIC[event2.type];
    if (await this.#commitShared(event2, topic, dedupeKey)) return;
    if (this.#closed) throw new Error("RedisEventLog is closed");
    if (this.#mode !== "local") this.#enterLocal();
    const sequenced = this.#local.append({ ...event2, topic });
    this.#lastSeq = sequenced.seq;
    this.#deliver(sequenced);
  }
  /**
   * Appends to the shared log; `false` when Redis cannot take it. A failure whose outcome is
   * unknown (connection lost, timeout) is retried once after the connection is back, with the
   * same append id, and the script skips the append if that id is already in the stream —
   * so a blip neither duplicates the event nor forces the local fallback.
   * Only the command connection matters: what is appended while the reader reconnects is
   * delivered when it is back (it resumes from `#lastSeq`).
   */
  async #commitShared(event2, topic, dedupeKey) {
    const timeout = this.#timeout;
    const id = randomBytes(8).toString("hex");
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.#mode !== "shared") return false;
      if (!this.#conn.cmd.isReady && !await this.#conn.whenCmdReady(timeout)) return false;
      if (this.#mode !== "shared") return false;
      try {
        const seq = await this.#store.append(this.#conn.cmd, event2, topic, id, attempt > 0, dedupeKey);
        if (dedupeKey) this.#logger.debug(seq ? `Redis: legacy message sequenced as ${seq}` : "Redis: legacy message already sequenced");
        return true;
      } catch (err) {
        if (this.#closed) return false;
        this.#logger.warn(`Redis: append failed (${String(err)})${attempt === 0 && !(err instanceof ErrorReply) ? "; retrying" : ""}`);
        if (err instanceof ErrorReply) return false;
      }
    }
    return false;
  }
  async #ingest(raw) {
    const parsed = parseLegacyMessage(raw);
    if (!parsed.ok) {
      this.#logger.warn(`Redis: ignored a message on ${this.#store.keys.channel}: ${parsed.reason}`);
      return;
    }
    const hash = createHash2("sha1").update(raw).digest("hex");
    try {
      await this.#commit(parsed.event, `${this.#store.keys.ingest}${hash}`);
    } catch (err) {
      this.#logger.warn(`Redis: legacy message not sequenced: ${String(err)}`);
    }
  }
  /**
   * Switches to the local fallback. Coming from the shared log, local seqs continue (with a large
   * jump, {@link LOCAL_SEQ_OFFSET}) so that connected clients keep receiving events without a
   * reset; the break is reported when Redis returns (`onReset`), which is when it matters.
   */
  #enterLocal() {
    const base = this.#mode === "shared" ? this.#lastSeq + LOCAL_SEQ_OFFSET : 0;
    this.#local = new LocalFallbackLog(this.#options.historySize, this.#options.historyTtl, base);
    this.#mode = "local";
    this.#epoch = this.#local.epoch;
    this.#lastSeq = base;
    this.#logger.warn(`Redis unavailable: sequencing events locally under epoch ${this.#epoch}`);
  }
  #reset(reason) {
    try {
      this.#options.onReset?.(this.#epoch, reason);
    } catch (err) {
      this.#logger.error(`RedisEventLog onReset threw: ${String(err)}`);
    }
  }
  #deliver(event2) {
    try {
      this.#onEvent(event2);
    } catch (err) {
      this.#logger.error(`RedisEventLog onEvent threw: ${String(err)}`);
    }
  }
  /**
   * Reads the epoch (creating it if Redis lost it) and decides where delivery continues:
   * - at start: from the current end (`onEvent` receives events committed from now on);
   * - same epoch as the one followed: from `#lastSeq`, nothing skipped;
   * - another epoch while following the shared log (Redis flushed or restarted): from its first
   *   seq, so events committed in it before this instance noticed are not skipped;
   * - back from the local fallback: from the current end (what was committed meanwhile may be
   *   old; `onReset` has clients resume, and `readAfter` tells them what it covers).
   */
  async #sync() {
    const { epoch, seq } = await this.#store.sync(this.#conn.cmd);
    if (this.#closed) return;
    const from = this.#mode;
    if (from === "shared" && epoch === this.#epoch && seq >= this.#lastSeq) {
      this.#synced = true;
      return;
    }
    this.#mode = "shared";
    this.#epoch = epoch;
    this.#lastSeq = from === "shared" ? 0 : seq;
    this.#local = void 0;
    this.#synced = true;
    if (from === "new") return;
    this.#logger.info(`Redis: on the shared log, epoch ${epoch}, delivering after seq ${this.#lastSeq}`);
    this.#reset("epoch_changed");
  }
  /** The one delivery loop: waits for Redis, syncs, reads the stream; backs off after errors. */
  async #run() {
    let delay = 0;
    while (this.#mode !== "closed") {
      await this.#conn.whenReady(delay);
      if (this.#closed) return;
      try {
        await this.#sync();
        delay = 0;
        await this.#readStream();
      } catch (err) {
        if (this.#closed) return;
        this.#synced = false;
        this.#logger.debug(`Redis reader: ${String(err)}`);
        delay = 250;
      }
    }
  }
  /** Delivers stream entries after `#lastSeq` until the mode or the epoch changes. */
  async #readStream() {
    while (this.#mode === "shared") {
      const watchdog = setTimeout(() => this.#stalled = true, READ_BLOCK_MS + this.#timeout);
      let reply;
      try {
        reply = await this.#conn.reader.sendCommand(
          ["XREAD", "COUNT", String(READ_COUNT), "BLOCK", String(READ_BLOCK_MS), "STREAMS", this.#store.keys.events, `${this.#lastSeq}-0`],
          { timeout: 0 }
          // no client-side timeout on the blocking read (node-redis defaults to 5 s)
        );
      } finally {
        clearTimeout(watchdog);
        this.#stalled = false;
      }
      if (this.#mode !== "shared") return;
      if (!reply) {
        const current = await this.#store.currentEpoch(this.#conn.reader);
        if (current !== this.#epoch) return;
        continue;
      }
      for (const { seq, epoch, event: event2 } of parseEntries(reply[0]?.[1] ?? [], this.#logger)) {
        if (epoch !== this.#epoch) return;
        if (seq !== this.#lastSeq + 1) {
          this.#logger.warn(`Redis: fell behind the stream, seqs ${this.#lastSeq + 1}..${seq - 1} skipped`);
          this.#reset("gap");
        }
        this.#lastSeq = seq;
        if (event2) this.#deliver(event2);
        if (this.#mode !== "shared") return;
      }
    }
  }
};

// test/redis/bench-append.ts
var url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
var N = Number(process.env.N ?? 5e3);
var RUNS = Number(process.env.RUNS ?? 3);
var prefix = `bench:${randomUUID3()}`;
var data = { proposal_id: "p1", symbol: "BTC/USDT", action: "buy", size: 1e-3, filled_price: 95e3, order_id: "o1", status: "filled" };
var event = { type: "trade_executed", data, timestamp: (/* @__PURE__ */ new Date()).toISOString() };
var payload = JSON.stringify({ topic: "executions", message: { ...event } });
var median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function main() {
  const pub = createClient2({ url });
  pub.on("error", () => {
  });
  await pub.connect();
  let delivered = 0;
  let wake;
  const log = new RedisEventLog({ url, keyPrefix: prefix, historySize: 1e3, historyTtl: 3e5 });
  await log.start(() => {
    delivered++;
    wake?.();
  });
  const untilDelivered = (n) => new Promise((resolve) => {
    wake = () => delivered >= n && resolve();
    wake();
  });
  const modes = {
    "PUBLISH, one at a time": async () => {
      for (let i = 0; i < N; i++) await pub.publish(`${prefix}:plain`, payload);
    },
    "PUBLISH, pipelined": async () => {
      await Promise.all(Array.from({ length: N }, () => pub.publish(`${prefix}:plain`, payload)));
    },
    "append, one at a time (until delivered)": async () => {
      const target = delivered + N;
      for (let i = 0; i < N; i++) await log.append(event);
      await untilDelivered(target);
    },
    "append, pipelined (until delivered)": async () => {
      const target = delivered + N;
      await Promise.all(Array.from({ length: N }, () => log.append(event)));
      await untilDelivered(target);
    }
  };
  const results = {};
  for (let r = 0; r < RUNS; r++) {
    for (const [name, run] of Object.entries(modes)) {
      const t0 = performance.now();
      await run();
      const s = (performance.now() - t0) / 1e3;
      (results[name] ??= []).push(N / s);
    }
  }
  process.stdout.write(`N=${N}, runs=${RUNS}, Redis ${url}
`);
  for (const [name, xs] of Object.entries(results)) {
    process.stdout.write(`${name.padEnd(42)} median ${Math.round(median(xs))}/s  (runs: ${xs.map((x) => Math.round(x)).join(", ")})
`);
  }
  await log.close();
  for await (const keys of pub.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1e3 })) if (keys.length) await pub.del(keys);
  await pub.close();
}
await main();
