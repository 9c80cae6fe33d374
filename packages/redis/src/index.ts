export {
  RedisBackplane,
  type RedisBackplaneOptions,
  redisBackplane,
  type SharedHistoryOptions,
} from "./redis-backplane.js";
export type { RedisConnectionOptions } from "./redis-connection.js";
export { RedisReplayHistory, type RedisReplayHistoryOptions } from "./redis-replay-history.js";
export { RedisUnavailableError } from "./redis-unavailable-error.js";
