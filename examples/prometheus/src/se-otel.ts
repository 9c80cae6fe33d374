import type { BatchObservableCallback, Meter } from "@opentelemetry/api";
import type { EventHub } from "@se/core";
import { watchSeChannels } from "./se-channels.js";

/** The hub to record and the OpenTelemetry meter to record it with. */
export interface SeOtelSource {
  readonly hub: EventHub;
  /** e.g. `metrics.getMeter("se")` from `@opentelemetry/api`. */
  readonly meter: Meter;
}

/**
 * The same numbers as {@link registerSeMetrics}, as OpenTelemetry instruments: counters fed by
 * the hub's `se:*` diagnostics channels, observable instruments reading `hub.stats()` when the
 * SDK collects. OpenTelemetry's Node SDK does not subscribe to these channels by itself: call
 * this once per hub. Returns a function that stops recording.
 */
export function recordSeOtelMetrics({ hub, meter }: SeOtelSource): () => void {
  const opened = meter.createCounter("se.connections.opened", { unit: "{connection}" });
  const closed = meter.createCounter("se.connections.closed", { unit: "{connection}" });
  const refused = meter.createCounter("se.connections.refused", { unit: "{connection}" });
  const resets = meter.createCounter("se.resets", { unit: "{reset}" });
  const slow = meter.createCounter("se.slow_clients", { unit: "{connection}" });
  const backplaneErrors = meter.createCounter("se.backplane.errors", { unit: "{error}" });
  const open = meter.createObservableGauge("se.connections.open", { unit: "{connection}" });
  const queued = meter.createObservableGauge("se.bytes.queued", { unit: "By" });
  const sent = meter.createObservableCounter("se.events.sent", { unit: "{event}" });
  const dropped = meter.createObservableCounter("se.events.dropped", { unit: "{event}" });
  const replayed = meter.createObservableCounter("se.events.replayed", { unit: "{event}" });
  const up = meter.createObservableGauge("se.backplane.up");
  let backplaneUp: number | undefined;

  const observe: BatchObservableCallback = (result) => {
    const stats = hub.stats();
    result.observe(open, stats.connections);
    result.observe(queued, stats.bytesQueued);
    result.observe(sent, stats.eventsSent);
    result.observe(dropped, stats.eventsDropped);
    result.observe(replayed, stats.replayedEvents);
    if (backplaneUp !== undefined) result.observe(up, backplaneUp);
  };
  const observables = [open, queued, sent, dropped, replayed, up];
  meter.addBatchObservableCallback(observe, observables);

  const unsubscribe = watchSeChannels(hub, {
    connect: () => opened.add(1),
    disconnect: (reason) => closed.add(1, { reason }),
    refused: (limit) => refused.add(1, { limit }),
    reset: (reason) => resets.add(1, { reason }),
    slowClient: (policy) => slow.add(1, { policy }),
    backplane: (state) => {
      backplaneUp = state === "up" ? 1 : 0;
      if (state === "down") backplaneErrors.add(1);
    },
  });
  return () => {
    unsubscribe();
    meter.removeBatchObservableCallback(observe, observables);
  };
}
