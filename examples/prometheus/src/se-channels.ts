import diagnosticsChannel from "node:diagnostics_channel";
import type { EventHub } from "@se/core";

/**
 * What one hub's diagnostics channels report, one callback per channel. Reasons, limits and
 * policies are passed on as they come, so a value a newer `@se/core` adds shows up as is.
 * None of these runs per event: they run per connection, replay, refusal or outage.
 */
export interface SeChannelHandlers {
  /** `se:connect`: a stream opened. */
  connect?(): void;
  /** `se:disconnect`: a stream ended, with its `CloseReason` (`"client-gone"`, `"ended"`, …). */
  disconnect?(reason: string): void;
  /** `se:refused`: a cap refused a connect (`"seid"` or `"instance"`). */
  refused?(limit: string): void;
  /** `se:replay`: a replay finished after writing `events`. */
  replay?(events: number): void;
  /** `se:reset`: a client was told to reset, with the `ResetReason`. */
  reset?(reason: string): void;
  /** `se:slow-client`: a client was judged slow; `policy` is what was done about it. */
  slowClient?(policy: string): void;
  /** `se:backplane`: the backplane connected (`"up"`) or lost its connection (`"down"`). */
  backplane?(state: string, error: unknown): void;
  /** `se:error`: the hub reported an error (a backplane outage, a sink that threw, …). */
  error?(error: unknown): void;
}

interface HubMessage {
  readonly hub: unknown;
  readonly reason?: string;
  readonly limit?: string;
  readonly events?: number;
  readonly policy?: string;
  readonly state?: string;
  readonly error?: unknown;
}

/**
 * Subscribes `handlers` to the `se:*` diagnostics channels for messages of `hub` only, so two
 * hubs in one process keep separate numbers. Returns the function that unsubscribes them.
 */
export function watchSeChannels(hub: EventHub, handlers: SeChannelHandlers): () => void {
  const { connect, disconnect, refused, replay, reset, slowClient, backplane, error } = handlers;
  // Only the channels someone handles: the hub builds no message for the others.
  const routes: Array<[string, ((message: HubMessage) => void) | false]> = [
    ["se:connect", !!connect && (() => connect())],
    ["se:disconnect", !!disconnect && ((m) => disconnect(String(m.reason)))],
    ["se:refused", !!refused && ((m) => refused(String(m.limit)))],
    ["se:replay", !!replay && ((m) => replay(m.events ?? 0))],
    ["se:reset", !!reset && ((m) => reset(String(m.reason)))],
    ["se:slow-client", !!slowClient && ((m) => slowClient(String(m.policy)))],
    ["se:backplane", !!backplane && ((m) => backplane(String(m.state), m.error))],
    ["se:error", !!error && ((m) => error(m.error))],
  ];
  const subscribed = routes.flatMap(([name, route]) => {
    if (route === false) return [];
    const listener = (message: unknown): void => {
      if ((message as HubMessage).hub === hub) route(message as HubMessage);
    };
    diagnosticsChannel.subscribe(name, listener);
    return [[name, listener] as const];
  });
  return () => {
    for (const [name, listener] of subscribed) diagnosticsChannel.unsubscribe(name, listener);
  };
}
