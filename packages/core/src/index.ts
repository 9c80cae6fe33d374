export type {
  Backplane,
  BackplaneReceiver,
  DisconnectRequest,
  Envelope,
} from "./backplane.js";
export { ClientsView } from "./clients-view.js";
export {
  type CloseReason,
  Connection,
  type PipeOptions,
  type SlowClientPolicy,
} from "./connection.js";
export { DIAGNOSTICS_CHANNELS, type DiagnosticsChannelName } from "./diagnostics.js";
export {
  ConnectionClosedError,
  ConnectionLimitError,
  InvalidLastEventIdError,
  ReconnectRefusedError,
  SeError,
  type SeErrorCode,
  SeOptionError,
  SseFormatError,
} from "./errors.js";
export {
  type ConnectOptions,
  type Delivery,
  type DisconnectOptions,
  type DisconnectResult,
  type DisconnectTarget,
  EventHub,
  type EventHubOptions,
  type HubCloseOptions,
  type HubEvents,
  type HubResyncOptions,
  type StaleReplayPolicy,
} from "./event-hub.js";
export { createIdGenerator } from "./event-ids.js";
export type { EventSink, SinkListener } from "./event-sink.js";
export { eventStreamHeaders, readLastEventId } from "./event-stream-headers.js";
export {
  type EventMessage,
  formatComment,
  formatEvent,
  jsonSerializer,
  type Serializer,
  serializeData,
} from "./format-event.js";
export type { HubStats } from "./hub-stats.js";
export {
  checkLastEventId,
  checkName,
  MAX_ID_LENGTH,
  MAX_LAST_EVENT_ID_LENGTH,
  MAX_NAME_LENGTH,
} from "./limits.js";
export {
  comparePositions,
  connectionEventId,
  isPosition,
  positionOfConnectionEventId,
} from "./position.js";
export type { ResetReason } from "./replay.js";
export {
  type HistoryEntry,
  MemoryReplayHistory,
  type MemoryReplayHistoryOptions,
  type ReplayHistory,
  type ReplaySlice,
} from "./replay-history.js";
export { type Target, targetMatches } from "./target.js";
export {
  createEventResponse,
  createEventStream,
  type EventStream,
  type EventStreamOptions,
} from "./web-stream.js";
