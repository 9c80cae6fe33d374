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
export { type ConnectOptions, ModelClient, TestClock } from "./model-client.js";
export { parseSeed, parseSeeds, Random } from "./random.js";
