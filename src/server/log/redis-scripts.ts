/**
 * Lua scripts of the Redis event log. Each runs atomically in Redis, so the epoch,
 * the sequence and the stream can never disagree, whichever instance runs them.
 *
 * Keys (prefix `P`, all in one hash slot through the hash tag `{P}`, so they live on one shard
 * of a Redis Cluster):
 * - `{P}:log`     hash `{epoch, seq, run}`: the log's name, its last sequence number, and the run id of the Redis
 *                 process it was last checked on (a restart or a failover changes it: see `RedisEventLog`'s sync);
 * - `{P}:events`  stream; entry id `${seq}-0` (stream id == seq, so `XRANGE` seeks by seq), two fields
 *                 (few strings per entry: appends and reads cost per string):
 *                 `h` the header `"<t> <epoch> <flags><type>\x1f<topic>\x1f<timestamp>\x1f<id>"` (`t` the
 *                 Redis time in ms of the append, `flags` two characters, the id last: it may hold
 *                 any character; the timestamp never holds a control character), `d` the JSON data;
 * - `{P}:ids:<n>` hash id → `"<epoch> <seq>"` of the events appended in time bucket `n` with an id of the
 *                 publisher's (buckets of `idTtl` ms by the appending instance's clock; an append checks the
 *                 current bucket and both neighbours, so an id is remembered between one and two `idTtl`, across
 *                 instances whose clocks differ by less than `idTtl`), and batch token → `"<epoch> <first> <last>"`
 *                 (the seqs it appended) of each script call, which protects its other events from a retry;
 *                 each bucket expires two `idTtl` after its last write.
 *
 * The scripts that write are Redis 7 "shebang" scripts without the `allow-oom` flag: Redis refuses
 * them *before* they run when it is out of memory (`maxmemory` + `noeviction`) or a read-only
 * replica, so a refused append never leaves half a batch behind. And the next seq is derived from
 * the stream's last entry as well as from the hash, so even a script failing midway cannot make
 * a seq hole or reuse a seq.
 */
import { createHash } from 'node:crypto';

/** Creates the epoch (and an empty log) when it is missing. */
const ENSURE_EPOCH = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
end
`;

/**
 * Read-only. KEYS: log, events. ARGV: seq.
 * Returns `{epoch or false, lastSeq, id of the entry at ARGV seq or false, seq of the first stored entry or false,
 * run id of the Redis process the log was last checked on or false, run id of this Redis process or false (INFO
 * refused), 1 if this process was promoted from a replica (it has a previous replication id) or 0}`.
 */
export const INSPECT_SCRIPT = `#!lua flags=no-writes
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local function idOf(entry)
  local f = entry[2]
  for i = 1, #f, 2 do
    if f[i] == 'h' then return string.match(f[i + 1], '^%d+ %S+ ..[^\\31]*\\31[^\\31]*\\31[^\\31]*\\31(.*)$') or false end
  end
  return false
end
local at = false
local want = string.format('%d-0', tonumber(ARGV[1]))
local e = redis.call('XRANGE', KEYS[2], want, want)
if e[1] then at = idOf(e[1]) end
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
local firstSeq = false
if first[1] then firstSeq = tonumber(string.match(first[1][1], '^(%d+)')) end
-- The Redis process holding the log (INFO from here: the node the keys live on, even behind a proxy).
local function info(section, name)
  local ok, text = pcall(redis.call, 'INFO', section)
  if not ok or type(text) ~= 'string' then return false end
  return string.match(text, name .. ':([^\\r\\n]*)') or false
end
local promoted = info('replication', 'second_repl_offset')
return {epoch or false, seq, at, firstSeq, redis.call('HGET', KEYS[1], 'run') or false, info('server', 'run_id'),
  (promoted and promoted ~= '-1') and 1 or 0}
`;

/** Lua: records run id ARGV[n] ('' = unknown: forgets it) in the log hash. */
const RECORD_RUN = (n: number) => `
if ARGV[${n}] ~= '' then redis.call('HSET', KEYS[1], 'run', ARGV[${n}]) else redis.call('HDEL', KEYS[1], 'run') end
`;

/** KEYS: log, events. ARGV: candidateEpoch, run id ('' = unknown). Creates the epoch if missing (with the run id); returns it. */
export const CREATE_SCRIPT = `#!lua
local created = not redis.call('HGET', KEYS[1], 'epoch')
${ENSURE_EPOCH}
if created then
${RECORD_RUN(2)}
end
return epoch
`;

/**
 * KEYS: log. ARGV: seenEpoch, run id. Records the run id the log was checked on, if the log still has `seenEpoch`;
 * returns the current epoch. Allowed out of memory (it replaces one small value): the check must not wait for memory.
 */
export const ADOPT_RUN_SCRIPT = `#!lua flags=allow-oom
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if epoch == ARGV[1] then
${RECORD_RUN(2)}
end
return epoch or false
`;

/**
 * KEYS: log, events. ARGV: seenEpoch, newEpoch, run id ('' = unknown). When the log still has `seenEpoch` (or none),
 * starts a new, empty log named `newEpoch`: every instance and client then sees an epoch change.
 * Returns the current epoch. Allowed out of memory: it frees the stream, and a log that may have lost events must not
 * stay in use until memory is found.
 */
export const ROTATE_SCRIPT = `#!lua flags=allow-oom
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if epoch and epoch ~= ARGV[1] then return epoch end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'seq', 0)
${RECORD_RUN(3)}
return ARGV[2]
`;

/** Lua: the Redis time (ms) of entry `e` (from its header). */
const ENTRY_TIME = `
local function entryTime(entry)
  local f = entry[2]
  for i = 1, #f, 2 do
    if f[i] == 'h' then return tonumber(string.match(f[i + 1], '^(%d+)')) or 0 end
  end
  return 0
end
`;

/**
 * Appends a batch. KEYS: log, events, ids (this time bucket's), ids (the previous bucket's), ids (the next bucket's:
 * another instance's clock may be a little ahead, across a bucket boundary).
 * ARGV: candidateEpoch, storeSize, storeMs, idTtlMs, channel ('' = no bridge), token (unique per batch: a
 * retry of the same call with the same token appends nothing), then per event 2 values:
 * - meta `<b><k><type>\x1f<topic>\x1f<timestamp>\x1f<id>`: `b` is `b` to also PUBLISH the event on the channel in
 *   the SIGMAX 2.0 format `{"topic","message":{"type","data","timestamp"}}`, marked `"sigmax_ws":1` (the type,
 *   topic and timestamp of a bridged event need no JSON escaping: the caller checks it), `-` not to; `k` is `k`
 *   for an id of the publisher's (appended once: checked and remembered), `-` for one of the log's own;
 * - the JSON data.
 * Returns `{epoch, r1, r2, …}`: `r` > 0 the new seq; `-seq` a duplicate id (seq in this epoch, or 0).
 *
 * Trimming: by size with `XTRIM MAXLEN ~ storeSize` once per batch; by time, expired entries are removed from the head
 * (bounded work per call), and the stream key expires `storeMs` after the last append.
 */
export const APPEND_SCRIPT = `#!lua
${ENSURE_EPOCH}
local function known(key)
  local prev = redis.call('HGET', KEYS[3], key) or redis.call('HGET', KEYS[4], key) or redis.call('HGET', KEYS[5], key)
  if not prev then return nil end
  local pe, rest = string.match(prev, '^(%S+) (.*)$')
  return pe == epoch, rest
end
local function idOf(meta)
  return string.match(meta, '^..[^\\31]*\\31[^\\31]*\\31[^\\31]*\\31(.*)$')
end
local same, range = known(ARGV[6])
if same ~= nil then
  -- This batch was applied before (a retry after a lost reply): nothing is appended again. The seqs it
  -- appended were first..last in event order; an event with a publisher id has its own record.
  local out = {epoch}
  local nextSeq = tonumber(string.match(range, '^(%d+)'))
  for b = 7, #ARGV - 1, 2 do
    local r = 0
    if same then
      if string.byte(ARGV[b], 2) == 107 then
        local s, ps = known(idOf(ARGV[b]))
        if s then
          r = -tonumber(ps)
          if -r == nextSeq then nextSeq = nextSeq + 1 end
        end
      else
        r = -nextSeq
        nextSeq = nextSeq + 1
      end
    end
    out[#out + 1] = r
  end
  return out
end
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if top[1] then
  local s = tonumber(string.match(top[1][1], '^(%d+)'))
  if s > seq then seq = s end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local head = string.format('%d', now) .. ' ' .. epoch .. ' '
local first = seq + 1
local out = {epoch}
for b = 7, #ARGV - 1, 2 do
  local meta = ARGV[b]
  local keyed = string.byte(meta, 2) == 107
  local r = nil
  if keyed then
    local id = idOf(meta)
    local s, ps = known(id)
    if s ~= nil then
      if s then r = -tonumber(ps) else r = 0 end
    else
      redis.call('HSET', KEYS[3], id, epoch .. ' ' .. (seq + 1))
    end
  end
  if not r then
    seq = seq + 1
    r = seq
    redis.call('XADD', KEYS[2], string.format('%d-0', seq), 'h', head .. meta, 'd', ARGV[b + 1])
    if ARGV[5] ~= '' and string.byte(meta, 1) == 98 then
      local ty, tp, ts = string.match(meta, '^..([^\\31]*)\\31([^\\31]*)\\31([^\\31]*)\\31')
      redis.call('PUBLISH', ARGV[5], '{"topic":"' .. tp .. '","message":{"type":"' .. ty .. '","data":' .. ARGV[b + 1] ..
        ',"timestamp":"' .. ts .. '"},"sigmax_ws":1}')
    end
  end
  out[#out + 1] = r
end
redis.call('HSET', KEYS[1], 'seq', seq)
redis.call('HSET', KEYS[3], ARGV[6], epoch .. ' ' .. first .. ' ' .. seq)
redis.call('PEXPIRE', KEYS[3], 2 * tonumber(ARGV[4]))
redis.call('XTRIM', KEYS[2], 'MAXLEN', '~', ARGV[2])
local cutoff = now - tonumber(ARGV[3])
${ENTRY_TIME}
local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
if oldest[1] and entryTime(oldest[1]) < cutoff then
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
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return out
`;

/**
 * Read-only. KEYS: log, events. ARGV: epoch, after, limit, historySize, historyMs.
 * Returns `{'ok', entries}` or `{reason}`. Coverage is checked against the configured window
 * (the last `historySize` seqs, younger than `historyMs`), not just against what the stream
 * still stores, so the answer does not depend on approximate trimming.
 */
export const READ_SCRIPT = `#!lua flags=no-writes
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
${ENTRY_TIME}
local t = entryTime(entries[1])
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
