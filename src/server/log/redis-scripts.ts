/**
 * Lua scripts of the Redis event log. Each runs atomically in Redis, so the epoch,
 * the sequence and the stream can never disagree, whichever instance runs them.
 *
 * Keys (all under the log's prefix `P`):
 * - `P:log`     hash `{epoch, seq}`: the log's name and its last sequence number (one key,
 *               so they cannot be evicted or deleted one without the other);
 * - `P:events`  stream; entry id `${seq}-0` (stream id == seq, so `XRANGE` seeks by seq),
 *               fields `ep` epoch, `ty` type, `tp` topic, `ts` timestamp, `d` JSON data,
 *               `t` Redis time (ms) of the append, `id` random append id (idempotent retry);
 * - `P:ingest:<sha1>` dedupe markers of legacy `P:broadcast` messages (`SET NX PX`).
 */
import { createHash } from 'node:crypto';

/** Creates the epoch (and an empty log) when it is missing. Shared prologue of the scripts. */
const ENSURE_EPOCH = `
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

/**
 * KEYS: log, events. ARGV: candidateEpoch.
 * Returns `{epoch, seq}` (the current epoch, created if missing, and its last seq).
 */
export const SYNC_SCRIPT = `${ENSURE_EPOCH}
return {epoch, tonumber(redis.call('HGET', KEYS[1], 'seq'))}
`;

/**
 * KEYS: log, events, dedupeKey. ARGV: candidateEpoch, type, topic, timestamp, dataJson,
 * storeSize, storeMs, dedupeMs (`0` = no dedupe), appendId, isRetry (`1`: skip if appendId is
 * among the last 1000 entries, i.e. the first attempt was committed but its reply was lost).
 * Returns `{epoch, seq}`; `seq` is 0 when the message was a duplicate (not appended).
 *
 * Trimming: by size with `MAXLEN ~ storeSize` (whole radix nodes, cheap); by time, each append
 * removes expired entries from the head (bounded work per call), and the stream key expires
 * `storeMs` after the last append. Seq ids are not times, so `XTRIM MINID` is fed the seq of the
 * last expired entry found via its `t` field.
 */
export const APPEND_SCRIPT = `${ENSURE_EPOCH}
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

/**
 * KEYS: log, events. ARGV: epoch, after, limit, historySize, historyMs.
 * Returns `{'ok', entries}` or `{reason}`. Coverage is checked against the configured window
 * (the last `historySize` seqs, younger than `historyMs`), not just against what the stream
 * still stores, so the answer does not depend on approximate trimming.
 */
export const READ_SCRIPT = `
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

/** A Lua script with its SHA1, run with `EVALSHA` (falling back to `EVAL` on `NOSCRIPT`). */
export interface Script {
  source: string;
  sha: string;
}

export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** The part of a node-redis client the scripts need. */
export interface CommandSender {
  sendCommand<T = unknown>(args: ReadonlyArray<string>, options?: { timeout?: number }): Promise<T>;
}

/** A command Redis did not answer in time; whether it ran is unknown. */
export class RedisTimeoutError extends Error {
  override name = 'RedisTimeoutError';
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
  }
}

/**
 * Bounds the wait for a reply. node-redis's own `timeout` option only covers a command not yet
 * written to the socket; once written, a hung server would keep the promise pending forever.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return promise;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeoutError(ms)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Runs `s` with `EVALSHA`, loading it with `EVAL` when Redis does not know it (first use, restart). */
export async function runScript<T>(
  client: CommandSender,
  s: Script,
  keys: readonly string[],
  args: readonly string[],
  timeout?: number,
): Promise<T> {
  const tail = [String(keys.length), ...keys, ...args];
  const options = timeout === undefined ? undefined : { timeout };
  try {
    return await withTimeout(client.sendCommand<T>(['EVALSHA', s.sha, ...tail], options), timeout);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return await withTimeout(client.sendCommand<T>(['EVAL', s.source, ...tail], options), timeout);
  }
}
