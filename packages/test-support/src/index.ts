export { EventClient, type Received } from "./event-client.js";
export {
  deleteKeys,
  REDIS_REQUIRED,
  REDIS_URL,
  redisAvailable,
  uniquePrefix,
} from "./redis-test-env.js";
export { waitFor } from "./wait-for.js";
