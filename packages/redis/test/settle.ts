import { waitFor } from "@se/testing";
import type { EventClient } from "@se/testing/eventsource";
import type { Instance } from "./instance.js";

let fences = 0;

/**
 * Waits until everything `senders` sent so far to `seid` has reached `client`, duplicates
 * included, without sleeping: the stream keeps each instance's sends in the order it made them,
 * so a fence (an event with a given id) from each sender reaching the client means all of that
 * sender's earlier ones did. Fence events have data and id starting with "fence".
 */
export async function settle(
  client: EventClient,
  seid: string,
  senders: readonly Instance[],
): Promise<void> {
  for (const sender of senders) {
    const id = `fence-${++fences}`;
    sender.hub.send(seid, { data: id, id });
    await waitFor(() => client.received.some((event) => event.id === id), `fence ${id}`);
  }
}

/** Data of the events that are not fences. */
export function withoutFences(data: readonly string[]): string[] {
  return data.filter((value) => !value.startsWith("fence"));
}
