import type { Target } from "./target.js";

/** An event on its way between instances: formatted once, by the instance that sent it. */
export interface Envelope {
  /** The sending hub's instance id, so it can ignore its own messages. */
  readonly origin: string;
  readonly target: Target;
  readonly frame: string;
  readonly id?: string;
}

/** What a backplane calls back into: the local hub. */
export interface BackplaneReceiver {
  readonly instanceId: string;
  /** Delivers an event published by another instance to the local connections it targets. */
  receive(envelope: Envelope): void;
  /** Reports a backplane failure (logged by the hub, never thrown at senders). */
  reportError(error: unknown): void;
  /**
   * The backplane may have missed events from other instances (its subscription was down);
   * end every local stream so its client reconnects with Last-Event-ID and replays from the
   * shared history (or is told to reset). Streams end gracefully, without a last event; clients
   * reconnect after the hub's `retry`. The hub stays open and accepts new connections.
   * Optional so receivers written before it still type-check; the `EventHub` implements it.
   */
  resync?(): void;
}

/**
 * How a send reaches connections held by other processes. Without one, a hub is
 * in-process only. `@se/redis` implements it over Redis pub/sub.
 */
export interface Backplane {
  /** Called once by the hub it is given to. */
  start(receiver: BackplaneReceiver): void | Promise<void>;
  /** Sends an envelope to every other instance. Must not throw; failures go to `reportError`. */
  publish(envelope: Envelope): void;
  /** Creates the next event id. Ids must be unique and ordered across all instances. */
  nextId?(): string;
  /** Lets go of what the backplane opened. */
  close(): void | Promise<void>;
}
