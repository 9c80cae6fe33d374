import type { Registry } from "prom-client";

/** What {@link registerSeMetrics} reports, as one plain object (e.g. for a JSON stats route). */
export interface SeMetricsSnapshot {
  readonly connectionsOpen: number;
  readonly clients: number;
  readonly topics: number;
  readonly connectionsOpened: number;
  /** By `CloseReason`; a reason that never happened is absent. */
  readonly connectionsClosed: Readonly<Record<string, number>>;
  /** By limit (`seid`, `instance`). */
  readonly connectionsRefused: Readonly<Record<string, number>>;
  readonly eventsSent: number;
  readonly bytesQueued: number;
  readonly eventsDropped: number;
  readonly eventsReplayed: number;
  readonly replays: number;
  /** By `ResetReason`. */
  readonly resets: Readonly<Record<string, number>>;
  /** By slow-client policy. */
  readonly slowClients: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly backplaneErrors: number;
  /** `true` up, `false` down, `null` no backplane reported yet (or none). */
  readonly backplaneUp: boolean | null;
}

type Values = ReadonlyArray<{ value: number; labels: Partial<Record<string, string | number>> }>;

/**
 * Reads the `se_*` metrics of `registry` (the same numbers `registry.metrics()` exposes to
 * Prometheus) into a {@link SeMetricsSnapshot}.
 */
export async function readSeMetrics(registry: Registry): Promise<SeMetricsSnapshot> {
  const byName = new Map<string, Values>();
  for (const metric of await registry.getMetricsAsJSON()) {
    byName.set(metric.name, metric.values as Values);
  }
  const total = (name: string): number =>
    (byName.get(name) ?? []).reduce((sum, { value }) => sum + value, 0);
  const by = (name: string, label: string): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const { value, labels } of byName.get(name) ?? []) {
      const key = String(labels[label]);
      counts[key] = (counts[key] ?? 0) + value;
    }
    return counts;
  };
  const up = byName.get("se_backplane_up")?.[0]?.value;
  return {
    connectionsOpen: total("se_connections_open"),
    clients: total("se_clients"),
    topics: total("se_topics"),
    connectionsOpened: total("se_connections_opened_total"),
    connectionsClosed: by("se_connections_closed_total", "reason"),
    connectionsRefused: by("se_connections_refused_total", "limit"),
    eventsSent: total("se_events_sent_total"),
    bytesQueued: total("se_bytes_queued"),
    eventsDropped: total("se_events_dropped_total"),
    eventsReplayed: total("se_events_replayed_total"),
    replays: total("se_replays_total"),
    resets: by("se_resets_total", "reason"),
    slowClients: by("se_slow_clients_total", "policy"),
    errors: total("se_errors_total"),
    backplaneErrors: total("se_backplane_errors_total"),
    backplaneUp: up === undefined ? null : up === 1,
  };
}
