/** Running totals kept by a hub. @internal */
export interface HubCounters {
  eventsSent: number;
  bytesQueued: number;
  eventsDropped: number;
  slowClientsDisconnected: number;
  replayedEvents: number;
  resets: number;
  /** Streams ended by `EventHub.resync()` so their clients reconnect and replay. */
  resyncs: number;
  /** Connects refused by `maxConnections` or `maxConnectionsPerSeid`. */
  refused: number;
}

/** A snapshot of a hub's counters, for metrics. */
export interface HubStats extends Readonly<HubCounters> {
  /** Open connections on this instance. */
  readonly connections: number;
  /** Distinct seids with at least one open connection on this instance. */
  readonly clients: number;
  /** Distinct topics with at least one subscriber on this instance. */
  readonly topics: number;
}

export function createCounters(): HubCounters {
  return {
    eventsSent: 0,
    bytesQueued: 0,
    eventsDropped: 0,
    slowClientsDisconnected: 0,
    replayedEvents: 0,
    resets: 0,
    resyncs: 0,
    refused: 0,
  };
}
