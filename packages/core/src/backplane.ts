import type { ReplayHistory } from "./replay-history.js";
import type { Target } from "./target.js";

/**
 * An event on its way between a hub and a backplane, formatted once by the hub that sent it.
 *
 * - To an unordered backplane (`publish`), and from it (`receive`): `frame` is the whole frame
 *   (with its `id:` line), `id` its wire id.
 * - To an {@link Backplane.ordered} backplane (`publish`): `frame` is the frame **without** an
 *   `id:` line, `id` is the caller's id if any, and `autoId` says whether the event's position
 *   becomes its id when the caller gave none. The backplane gives every event a `position` in
 *   one order shared by every instance and hands it back to every hub, the sender's included,
 *   through `receive`, with `frame` complete, `id` the wire id and `position` set.
 */
export interface Envelope {
  /** The sending hub's instance id. */
  readonly origin: string;
  readonly target: Target;
  readonly frame: string;
  /** The id written on the wire (or, to an ordered backplane, the caller's id). */
  readonly id?: string;
  /** Ordered publish only: use the position as the id when the caller gave none. */
  readonly autoId?: boolean;
  /** Received from an ordered backplane: the event's place in the shared order. */
  readonly position?: string;
  /**
   * Received from an ordered backplane: events addressed to `target` may have been lost at
   * this point (an outage). Matching clients get the hub's reset event; `frame` is empty.
   */
  readonly gap?: boolean;
  /**
   * A request to end streams, not an event (`hub.disconnect`): every instance ends its
   * connections matching `target`, after `frame` (a last event without id) when it is not
   * empty. Carried in order with the events, never stored for replay.
   */
  readonly disconnect?: DisconnectRequest;
}

/** What `hub.disconnect` asks every instance to do. */
export interface DisconnectRequest {
  /** For how long (ms) each instance refuses connects of the seids it ended (0: none). */
  readonly refuseReconnectMs: number;
}

/** What a backplane calls back into: the local hub. */
export interface BackplaneReceiver {
  readonly instanceId: string;
  /**
   * Delivers an event to the local connections it targets. An ordered backplane calls it for
   * every event (this hub's own too), in the shared order, exactly once per position.
   */
  receive(envelope: Envelope): void;
  /**
   * Ordered backplanes: the shared order stands at `position` with nothing left to deliver
   * (start-up). New connections start from the newest position seen.
   */
  seek?(position: string): void;
  /** Reports a backplane failure (logged by the hub, never thrown at senders). */
  reportError(error: unknown): void;
  /**
   * Ends every local stream so its client reconnects with `Last-Event-ID` and replays from the
   * shared history (or is told to reset). The hub stays open and accepts new connections.
   */
  resync?(): void;
  /**
   * The backplane connected (`"up"`) or lost its connection (`"down"`, with the error): published
   * on the `se:backplane` diagnostics channel. Call it on changes only.
   */
  state?(state: "up" | "down", error?: unknown): void;
}

/**
 * How a send reaches connections held by other processes. Without one, a hub is
 * in-process only. `@se/redis` implements it over Redis.
 */
export interface Backplane {
  /**
   * True when the backplane orders every shared send (broadcast, seid, topic): the hub does not
   * deliver its own sends at once but waits for them to come back through `receive` with their
   * position, so every instance delivers every event in the same order (the delivery contract).
   */
  readonly ordered?: boolean;
  /**
   * Ordered backplanes: the shared replay history, used by a hub given this backplane and no
   * `history` option.
   */
  history?(): ReplayHistory;
  /** Called once by the hub it is given to. */
  start(receiver: BackplaneReceiver): void | Promise<void>;
  /** Sends an envelope to every other instance (ordered: to every instance). Must not throw; failures go to `reportError`. */
  publish(envelope: Envelope): void;
  /** Unordered backplanes: creates the next event id, unique and ordered across instances. */
  nextId?(): string;
  /** Lets go of what the backplane opened. */
  close(): void | Promise<void>;
}
