/**
 * What a hub does, published on `node:diagnostics_channel` (the way undici and Fastify expose
 * instrumentation), for metrics: subscribe with `diagnostics_channel.subscribe(name, fn)`.
 * Found through `process.getBuiltinModule`, so the main entry imports no Node module; on a
 * runtime without it nothing is published. Each publish costs nothing without a subscriber.
 *
 * | channel | message |
 * | --- | --- |
 * | `se:connect` | `{ hub, connection }` |
 * | `se:disconnect` | `{ hub, connection, reason }` |
 * | `se:refused` | `{ hub, limit: "seid" \| "instance" }` |
 * | `se:replay` | `{ hub, connection, events }`: a replay finished, `events` written |
 * | `se:reset` | `{ hub, connection, reason }` |
 * | `se:slow-client` | `{ hub, connection, policy }` |
 * | `se:error` | `{ hub, error }`: what the hub reports (a backplane outage, a sink that threw) |
 * | `se:backplane` | `{ hub, state: "up" \| "down", error? }`: the backplane connected, or lost its connection |
 */
export const DIAGNOSTICS_CHANNELS = [
  "se:connect",
  "se:disconnect",
  "se:refused",
  "se:replay",
  "se:reset",
  "se:slow-client",
  "se:error",
  "se:backplane",
] as const;

/** A channel name of {@link DIAGNOSTICS_CHANNELS}. */
export type DiagnosticsChannelName = (typeof DIAGNOSTICS_CHANNELS)[number];

interface Channel {
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

type ChannelModule = { channel(name: string): Channel };

const channelModule = (
  globalThis as {
    process?: { getBuiltinModule?: (id: string) => unknown };
  }
).process?.getBuiltinModule?.("node:diagnostics_channel") as ChannelModule | undefined;

/** The named channels (process-wide by design: diagnostics channels are found by name). @internal */
export const diagnostics: Readonly<Record<DiagnosticsChannelName, Channel | undefined>> =
  Object.fromEntries(
    DIAGNOSTICS_CHANNELS.map((name) => [name, channelModule?.channel(name)]),
  ) as Record<DiagnosticsChannelName, Channel | undefined>;

/** Publishes `message()` on `name` when someone listens. @internal */
export function publish(name: DiagnosticsChannelName, message: () => object): void {
  const channel = diagnostics[name];
  if (channel?.hasSubscribers) channel.publish(message());
}
