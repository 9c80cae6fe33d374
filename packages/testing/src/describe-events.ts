import type { AnyStreamEvent } from "./stream-event.js";

function describeEvent(event: AnyStreamEvent): string {
  const data = typeof event.data === "string" ? event.data : JSON.stringify(event.data);
  const text = data === undefined ? "undefined" : JSON.stringify(data.slice(0, 80));
  return `${event.event} (id ${event.id ?? "none"}): ${text}`;
}

/** `3 events received; the last: …` for error messages. */
export function describeEvents(events: readonly AnyStreamEvent[]): string {
  if (events.length === 0) return "no events received";
  const last = events.slice(-5).map(describeEvent).join("; ");
  const count = events.length === 1 ? "1 event" : `${events.length} events`;
  return `${count} received; the last: ${last}`;
}
