import type { EventSource } from "eventsource";

/** Resolves with the next event of `type` that `source` dispatches. */
export function nextEvent(source: EventSource, type: string): Promise<MessageEvent> {
  return new Promise((resolve) =>
    source.addEventListener(type, (event) => resolve(event as MessageEvent), { once: true }),
  );
}
