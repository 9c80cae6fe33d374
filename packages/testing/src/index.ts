export {
  EventTimeoutError,
  SeTestingError,
  StreamConnectError,
  StreamDecodeError,
  StreamEndedError,
  StreamResponseError,
  WaitTimeoutError,
} from "./errors.js";
export {
  EventStream,
  type ReconnectOptions,
  type StreamEnd,
  type WaitOptions,
} from "./event-stream.js";
export { type Decode, type OpenStreamOptions, openStream } from "./open-stream.js";
export { postJson } from "./post-json.js";
export type {
  AnyStreamEvent,
  EventMap,
  EventName,
  StreamEvent,
  StreamEventNamed,
  StreamEventOf,
  TextEvents,
} from "./stream-event.js";
export type { AppLike, ServerAddress, ServerLike, StreamTarget } from "./stream-target.js";
export { waitFor } from "./wait-for.js";
