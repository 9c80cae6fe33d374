import type { EventSource } from "eventsource";

/** Resolves with the next event of `type` that `source` dispatches. */
export function nextEvent(source: EventSource, type: string): Promise<MessageEvent> {
  return new Promise((resolve) =>
    source.addEventListener(type, (event) => resolve(event as MessageEvent), { once: true }),
  );
}

/** POSTs `body` as JSON to `url`. */
export function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}
