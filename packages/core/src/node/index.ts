export {
  createNodeSink,
  createPipedSink,
  type NodeRequest,
  type NodeResponse,
  type OpenEventStreamOptions,
  openEventStream,
} from "./node-sink.js";
