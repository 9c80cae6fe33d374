import type { Redis } from "ioredis";
import type { EntryFields } from "./envelope-codec.js";

/**
 * Appends entries to the stream and publishes each with the position before it, in one
 * step, so the stream order is the order of the pub/sub messages.
 * KEYS[1]: the stream; KEYS[2..]: the id keys of the entries that have a caller id, in order.
 * ARGV: maxEvents, maxAgeMs, channel, then per entry: kind, payload, "1" when it has an id key.
 * Returns the new positions.
 */
const APPEND = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev = last[1] and last[1][1] or '0-0'
local key = 2
local ids = {}
for i = 4, #ARGV, 3 do
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'k', ARGV[i], 'p', ARGV[i + 1])
  if ARGV[i + 2] == '1' then
    redis.call('SET', KEYS[key], id, 'PX', ARGV[2])
    key = key + 1
  end
  redis.call('PUBLISH', ARGV[3], prev .. ' ' .. id .. ' ' .. ARGV[i] .. ' ' .. ARGV[i + 1])
  prev = id
  ids[#ids + 1] = id
end
return ids
`;

/**
 * The newest position; in an empty stream, first appends (and publishes) the origin marker.
 * KEYS[1]: the stream. ARGV: channel, marker payload.
 */
const ORIGIN = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if last[1] then return last[1][1] end
local id = redis.call('XADD', KEYS[1], '*', 'k', 'o', 'p', ARGV[2])
redis.call('PUBLISH', ARGV[1], '0-0 ' .. id .. ' o ' .. ARGV[2])
return id
`;

/**
 * What followed a key, up to `end` (the newest position this instance has delivered, so a
 * replay never runs ahead of the live events): resolves the key to a position (its id key,
 * else the key itself when it has the form of a stream id), checks that position is still in
 * the stream (and, when entries follow it, not older than maxAgeMs), then returns up to `limit`
 * entries after it that have an id or are gaps. Reads only from that position on: never the
 * whole stream.
 * KEYS[1]: the stream; KEYS[2]: the id key. ARGV: key, "1" when key is a stream id, limit,
 * maxAgeMs, end.
 * Returns false (unknown, trimmed or too old), { position, -1 } when the position is after
 * `end`, or { position, more (0/1), id, kind, payload, ... }.
 */
const SINCE = `
local function after(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
local position = redis.call('GET', KEYS[2])
if not position then
  if ARGV[2] ~= '1' then return false end
  position = ARGV[1]
end
if not redis.call('XRANGE', KEYS[1], position, position)[1] then return false end
if after(position, ARGV[5]) then return { position, -1 } end
local limit = tonumber(ARGV[3])
local result = { position, 0 }
local kept = 0
local from = position
local first = true
while true do
  local rows = redis.call('XRANGE', KEYS[1], '(' .. from, ARGV[5], 'COUNT', limit)
  if first and rows[1] then
    first = false
    local now = redis.call('TIME')
    local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
    if tonumber(string.match(position, '^%d+')) < ms - tonumber(ARGV[4]) then return false end
  end
  for i = 1, #rows do
    local fields = rows[i][2]
    local kind = fields[2]
    if kind == 'e' or kind == 'g' then
      result[#result + 1] = rows[i][1]
      result[#result + 1] = kind
      result[#result + 1] = fields[4]
      kept = kept + 1
      if kept == limit then
        result[2] = 1
        return result
      end
    end
  end
  if #rows < limit then return result end
  from = rows[#rows][1]
end
`;

type Reply = string | number | null | Reply[];

interface ScriptedRedis {
  seAppend(keys: number, ...args: (string | number)[]): Promise<string[]>;
  seOrigin(keys: number, ...args: string[]): Promise<string>;
  seSince(keys: number, ...args: (string | number)[]): Promise<Reply>;
}

/** The Lua scripts of `@se/redis`, run with EVALSHA (ioredis `defineCommand`). @internal */
export class StreamScripts {
  readonly #redis: ScriptedRedis;
  readonly #stream: string;
  readonly #idKeyPrefix: string;
  readonly #channel: string;

  constructor(client: Redis, prefix: string) {
    client.defineCommand("seAppend", { lua: APPEND });
    client.defineCommand("seOrigin", { lua: ORIGIN });
    client.defineCommand("seSince", { lua: SINCE, readOnly: true });
    this.#redis = client as unknown as ScriptedRedis;
    this.#stream = `${prefix}history`;
    this.#idKeyPrefix = `${prefix}id:`;
    this.#channel = `${prefix}events`;
  }

  /**
   * Appends and publishes `entries` in order; `ids[i]` is entry i's caller id (its id key is
   * set for `maxAgeMs`; `maxAgeMs` 0 sets none). Resolves to their positions.
   */
  append(
    entries: readonly EntryFields[],
    ids: readonly (string | undefined)[],
    maxEvents: number,
    maxAgeMs: number,
  ): Promise<string[]> {
    const keys = [this.#stream];
    const args: (string | number)[] = [maxEvents, maxAgeMs, this.#channel];
    for (const [i, { kind, payload }] of entries.entries()) {
      const id = maxAgeMs > 0 ? ids[i] : undefined;
      if (id !== undefined) keys.push(this.#idKeyPrefix + id);
      args.push(kind, payload, id === undefined ? "0" : "1");
    }
    return this.#redis.seAppend(keys.length, ...keys, ...args);
  }

  /** The newest position, after writing the origin marker into an empty stream. */
  origin(markerPayload: string): Promise<string> {
    return this.#redis.seOrigin(1, this.#stream, this.#channel, markerPayload);
  }

  /** See {@link SINCE}. */
  since(
    key: string,
    isStreamId: boolean,
    limit: number,
    maxAgeMs: number,
    end: string,
  ): Promise<Reply> {
    const idKey = this.#idKeyPrefix + key;
    const flag = isStreamId ? "1" : "0";
    return this.#redis.seSince(2, this.#stream, idKey, key, flag, limit, maxAgeMs, end);
  }
}
