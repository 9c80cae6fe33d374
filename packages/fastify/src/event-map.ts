import type { EventMessage } from "@se/core";

/**
 * Event name → data type (an interface or a type). `message` is the type of events sent
 * without a name.
 */
export type EventMap = object;

/** The map used when none is given: any event name, any data. */
export type AnyEvents = Record<string, unknown>;

/**
 * Merge your event map into this interface to type `reply.sendEvent`, `reply.sse.send`
 * and `fastify.se` everywhere:
 *
 * @example
 * declare module "@se/fastify" {
 *   interface Register {
 *     events: { greeting: string; new_private_message: { from: string; message: string } };
 *   }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface Register {}

/** The event map from {@link Register}, or any event with any data when none is registered. */
export type RegisteredEvents = Register extends { events: infer E extends EventMap }
  ? E
  : AnyEvents;

/** The data type of events sent without a name. */
export type UnnamedData<E extends EventMap> = string extends keyof E
  ? unknown
  : "message" extends keyof E
    ? E["message" & keyof E]
    : unknown;

/** An event id: a string or a number (`0` is a real id); `null`/`undefined` mean none. */
export type EventId = string | number | null | undefined;

type Fields = Omit<EventMessage, "data" | "event">;

/** A message whose `data` type follows its `event` name. */
export type TypedMessage<E extends EventMap> =
  | { [K in keyof E & string]: Fields & { event: K; data?: E[K] } }[keyof E & string]
  | (Fields & { event?: undefined; data?: UnnamedData<E> });

/** `sendEvent(data, event?, id?, retry?)`, checked against the event map. */
export interface SendEvent<E extends EventMap> {
  <K extends keyof E & string>(data: E[K], event: K, id?: EventId, retry?: number | null): void;
  (data: UnnamedData<E>, event?: null, id?: EventId, retry?: number | null): void;
}

/** `sendEventBySeid(seid, data, event?, id?, retry?)`: true when delivered or published. */
export interface SendEventBySeid<E extends EventMap> {
  <K extends keyof E & string>(
    seid: string,
    data: E[K],
    event: K,
    id?: EventId,
    retry?: number | null,
  ): boolean;
  (seid: string, data: UnnamedData<E>, event?: null, id?: EventId, retry?: number | null): boolean;
}
