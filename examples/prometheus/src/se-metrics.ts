import type { EventHub, HubStats } from "@se/core";
import { Counter, Gauge, type Registry } from "prom-client";
import { watchSeChannels } from "./se-channels.js";

/** Where the hub is: an `EventHub`, or a Fastify app with `@se/fastify` registered. */
export type SeMetricsSource =
  | { readonly hub: EventHub; readonly registry: Registry }
  | { readonly fastify: { readonly se: { readonly hub: EventHub } }; readonly registry: Registry };

/** The names {@link registerSeMetrics} registers. */
export const SE_METRIC_NAMES = [
  "se_connections_open",
  "se_clients",
  "se_topics",
  "se_connections_opened_total",
  "se_connections_closed_total",
  "se_connections_refused_total",
  "se_events_sent_total",
  "se_bytes_queued",
  "se_events_dropped_total",
  "se_events_replayed_total",
  "se_replays_total",
  "se_resets_total",
  "se_slow_clients_total",
  "se_errors_total",
  "se_backplane_errors_total",
  "se_backplane_up",
] as const;

/**
 * Registers the hub's metrics in a prom-client `registry` (prefix `se_`). Counts of what happens
 * (connects, disconnects by reason, refusals, resets, slow clients, backplane up/down) come from
 * the `se:*` diagnostics channels of this hub only; totals the hub keeps per event (events sent,
 * dropped, replayed, bytes held) are read from `hub.stats()` at scrape time, so sending an event
 * costs nothing more. Returns a function that unsubscribes and removes the metrics again.
 *
 * Call it as soon as the hub exists (right after `new SE()` or `new EventHub()`): a channel
 * message published before is not seen, so a backplane that came up before the call shows in
 * `se_backplane_up` only from its next change. (`fastify.register` of `@se/fastify` waits for
 * the backplane to be up: with a backplane, pass `{ hub: se.hub }` before registering.)
 *
 * @example
 * const registry = new Registry();
 * const se = new SE(options);
 * const stop = registerSeMetrics({ hub: se.hub, registry });
 * await app.register(se.plugin);
 * app.get("/metrics", async (_, reply) => reply.type(registry.contentType).send(await registry.metrics()));
 * app.addHook("onClose", async () => stop());
 */
export function registerSeMetrics(source: SeMetricsSource): () => void {
  const hub = "hub" in source ? source.hub : source.fastify.se.hub;
  const registers = [source.registry];
  const fromStats = (name: string, help: string, read: (stats: HubStats) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read(hub.stats()));
      },
    });
  const gauge = (name: string, help: string, read: (stats: HubStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(hub.stats()));
      },
    });

  gauge("se_connections_open", "Open event streams on this instance.", (s) => s.connections);
  gauge("se_clients", "Distinct seids with an open stream on this instance.", (s) => s.clients);
  gauge("se_topics", "Topics with at least one subscriber on this instance.", (s) => s.topics);
  gauge(
    "se_bytes_queued",
    "Bytes held right now for clients that are behind (queues and socket buffers).",
    (s) => s.bytesQueued,
  );
  fromStats(
    "se_events_sent_total",
    "Events written to streams (a broadcast to n streams counts n; replays not included).",
    (s) => s.eventsSent,
  );
  fromStats("se_events_dropped_total", "Events dropped for slow clients.", (s) => s.eventsDropped);
  fromStats(
    "se_events_replayed_total",
    "Events replayed to clients that reconnected with Last-Event-ID.",
    (s) => s.replayedEvents,
  );

  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers });
  const opened = counter("se_connections_opened_total", "Event streams opened.");
  const closed = counter("se_connections_closed_total", "Event streams ended, by reason.", [
    "reason",
  ]);
  const refused = counter(
    "se_connections_refused_total",
    "Connects refused by a cap, by limit (seid or instance).",
    ["limit"],
  );
  const replays = counter("se_replays_total", "Replays finished (Last-Event-ID reconnects).");
  const resets = counter("se_resets_total", "Clients told to reset, by reason.", ["reason"]);
  const slow = counter("se_slow_clients_total", "Clients judged slow, by the policy applied.", [
    "policy",
  ]);
  const errors = counter("se_errors_total", "Errors the hub reported (backplane, sinks, history).");
  const backplaneErrors = counter(
    "se_backplane_errors_total",
    "Times the backplane lost its connection.",
  );
  // Registered when the backplane first reports: a gauge without labels starts at 0, and a hub
  // without a backplane (or one not heard from yet) is not "down".
  let backplaneUp: Gauge | undefined;

  const unsubscribe = watchSeChannels(hub, {
    connect: () => opened.inc(),
    disconnect: (reason) => closed.inc({ reason }),
    refused: (limit) => refused.inc({ limit }),
    replay: () => replays.inc(),
    reset: (reason) => resets.inc({ reason }),
    slowClient: (policy) => slow.inc({ policy }),
    error: () => errors.inc(),
    backplane: (state) => {
      backplaneUp ??= new Gauge({
        name: "se_backplane_up",
        help: "1 while the backplane is connected, 0 while it is down (absent until it reports).",
        registers,
      });
      backplaneUp.set(state === "up" ? 1 : 0);
      if (state === "down") backplaneErrors.inc();
    },
  });
  return () => {
    unsubscribe();
    for (const name of SE_METRIC_NAMES) source.registry.removeSingleMetric(name);
  };
}
