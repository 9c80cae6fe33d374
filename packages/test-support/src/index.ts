export { EventClient, type Received } from "./event-client.js";
export { nextEvent, postJson } from "./event-source-kit.js";
export {
  deleteKeys,
  REDIS_REQUIRED,
  REDIS_URL,
  redisAvailable,
  uniquePrefix,
} from "./redis-test-env.js";
export { waitFor } from "./wait-for.js";
