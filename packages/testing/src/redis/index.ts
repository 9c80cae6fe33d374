export {
  deleteKeys,
  probeRedis,
  REDIS_REQUIRED,
  REDIS_URL,
  redisAvailable,
  redisUnavailableReason,
  uniquePrefix,
} from "./redis-test-env.js";
