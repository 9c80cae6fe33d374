export { type SeChannelHandlers, watchSeChannels } from "./se-channels.js";
export { registerSeMetrics, SE_METRIC_NAMES, type SeMetricsSource } from "./se-metrics.js";
export { readSeMetrics, type SeMetricsSnapshot } from "./se-metrics-snapshot.js";
export { recordSeOtelMetrics, type SeOtelSource } from "./se-otel.js";
