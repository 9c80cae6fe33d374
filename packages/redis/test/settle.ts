import { type EventClient, waitFor } from "@se/test-support";
import type { Instance } from "./instance.js";

let fences = 0;

/**
 * Waits until everything sent so far to `seid` has reached `client` (held by `home`),
 * duplicates included, without sleeping: each sender's pub/sub messages arrive in order, so
 * a fence from each sender arriving means all its earlier ones did; for `home`'s own
 * messages, the echo of a fence on its own subscriber is awaited, then one local event.
 * Fence events have data starting with "fence".
 */
export async function settle(
  client: EventClient,
  seid: string,
  home: Instance,
  senders: readonly Instance[],
): Promise<void> {
  for (const sender of senders) {
    if (sender === home) continue;
    const { id } = sender.hub.send(seid, { data: `fence-${++fences}` });
    await waitFor(() => client.received.some((event) => event.id === id), "a fence");
  }
  const subscriber = home.backplane.subscriber;
  if (subscriber === undefined) throw new Error("home backplane not started");
  let echoed = false;
  let fenceId: string | undefined;
  const onMessage = (_channel: string, message: string) => {
    if (fenceId !== undefined && message.includes(fenceId)) echoed = true;
  };
  subscriber.on("message", onMessage);
  try {
    fenceId = home.hub.send(seid, { data: `fence-${++fences}` }).id;
    await waitFor(() => echoed, "the echo of a fence");
  } finally {
    subscriber.off("message", onMessage);
  }
  const { id } = home.hub.send(seid, { data: `fence-${++fences}` });
  await waitFor(() => client.received.some((event) => event.id === id), "the last fence");
}

/** Data of the events that are not fences. */
export function withoutFences(data: readonly string[]): string[] {
  return data.filter((value) => !value.startsWith("fence"));
}
