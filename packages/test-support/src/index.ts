export {
  addressedTo,
  type CheckOptions,
  type ClientRecord,
  type ConnectionRecord,
  checkDelivery,
  type DeliveryLog,
  type Difference,
  eventData,
  keyOfData,
  type ReceivedEvent,
  type SendRecord,
  type SendTarget,
} from "./delivery-checker.js";
export {
  DeliveryRecorder,
  defaultProfile,
  type ExtraAction,
  type ModelAction,
  type ModelInstance,
  type ModelProfile,
  type ModelRunOptions,
  type ModelRunResult,
  runDeliveryModel,
} from "./delivery-model.js";
export { EventClient, type Received } from "./event-client.js";
export { nextEvent, postJson } from "./event-source-kit.js";
export { type ConnectOptions, ModelClient, TestClock } from "./model-client.js";
export { parseSeed, parseSeeds, Random } from "./random.js";
export {
  deleteKeys,
  REDIS_REQUIRED,
  REDIS_URL,
  redisAvailable,
  uniquePrefix,
} from "./redis-test-env.js";
export { waitFor } from "./wait-for.js";
