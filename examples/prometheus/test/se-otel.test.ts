import type { AddressInfo } from "node:net";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import type { Backplane, BackplaneReceiver } from "@se/core";
import { waitFor } from "@se/testing";
import { EventClient } from "@se/testing/eventsource";
import { afterEach, describe, expect, it } from "vitest";
import { recordSeOtelMetrics } from "../src/se-otel.js";
import { buildApp, type MetricsApp } from "../src/server.js";

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Collects through the SDK's in-memory exporter: `name{attr="v"}` → value. */
async function collect(
  reader: PeriodicExportingMetricReader,
  exporter: InMemoryMetricExporter,
): Promise<Record<string, number>> {
  exporter.reset();
  await reader.forceFlush();
  const points: Array<[string, number]> = [];
  for (const { scopeMetrics } of exporter.getMetrics()) {
    for (const { metrics } of scopeMetrics) {
      for (const metric of metrics) {
        for (const point of metric.dataPoints) {
          const attributes = Object.entries(point.attributes)
            .map(([key, value]) => `${key}="${String(value)}"`)
            .join(",");
          const name = metric.descriptor.name;
          points.push([attributes === "" ? name : `${name}{${attributes}}`, point.value as number]);
        }
      }
    }
  }
  return Object.fromEntries(points.sort(([a], [b]) => a.localeCompare(b)));
}

describe("OpenTelemetry instruments from the same channels", () => {
  it("records what the Prometheus metrics count, through the SDK", async () => {
    let receiver: BackplaneReceiver | undefined;
    const backplane: Backplane = {
      start: (r) => {
        receiver = r;
      },
      publish: () => {},
      close: () => {},
    };
    const { app }: MetricsApp = await buildApp({
      heartbeatMs: false,
      retry: 60_000,
      maxConnectionsPerSeid: 1,
      backplane,
    });
    cleanups.push(() => app.close());
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    cleanups.push(() => provider.shutdown());
    const stop = recordSeOtelMetrics({ hub: app.se.hub, meter: provider.getMeter("se") });
    cleanups.push(stop);

    await app.listen({ port: 0, host: "127.0.0.1" });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const ada = await EventClient.open(`${base}/events?seid=ada`);
    cleanups.push(() => ada.close());
    const bo = await EventClient.open(`${base}/events?seid=bo`);
    const refused = await fetch(`${base}/events?seid=ada`);
    expect(refused.status).toBe(429);
    await refused.body?.cancel();
    app.se.broadcast({ data: "hello" });
    await bo.waitForData("hello");
    bo.close();
    await waitFor(() => app.se.stats().connections === 1, "bo's stream to end");
    const cy = await EventClient.open(`${base}/events?seid=cy`, {
      lastEventId: "42",
      types: ["se-reset"],
    });
    cleanups.push(() => cy.close());
    await waitFor(() => cy.received.length === 1, "the reset event");
    receiver?.state?.("up");
    receiver?.state?.("down", new Error("connection lost"));

    expect(await collect(reader, exporter)).toEqual({
      "se.backplane.errors": 1,
      "se.backplane.up": 0,
      "se.bytes.queued": 0,
      'se.connections.closed{reason="client-gone"}': 1,
      "se.connections.open": 2,
      "se.connections.opened": 3,
      'se.connections.refused{limit="seid"}': 1,
      "se.events.dropped": 0,
      "se.events.replayed": 0,
      "se.events.sent": 3, // "hello" to ada and bo, and cy's reset event
      'se.resets{reason="history-gap"}': 1,
    });

    // Stopped: the channels no longer reach the instruments.
    stop();
    receiver?.state?.("up");
    const dee = await EventClient.open(`${base}/events?seid=dee`);
    cleanups.push(() => dee.close());
    expect(await collect(reader, exporter)).toMatchObject({
      "se.backplane.up": 0,
      "se.connections.opened": 3,
    });
  });
});
