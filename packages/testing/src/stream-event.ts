/**
 * Event name → data type, the shape `@se/fastify`'s event maps use (an interface or a type).
 * `message` is the type of events sent without a name.
 */
export type EventMap = object;

/** The map used when none is given: any event name, data as the text the server sent. */
export type TextEvents = Record<string, string>;

/** One event as the stream's parser (`eventsource-parser`) dispatched it. */
export interface StreamEventOf<Name extends string, Data> {
  /** The `event` field, `"message"` when the server sent none. */
  readonly event: Name;
  /** The data lines joined with `\n`, decoded by the `decode` option. */
  readonly data: Data;
  /** The `id` field, when the event had one. */
  readonly id: string | undefined;
}

/** The names of the events of `E`. */
export type EventName<E extends EventMap> = keyof E & string;

/** An event of map `E`: a union discriminated by `event`, whose `data` follows the name. */
export type StreamEvent<E extends EventMap = TextEvents> = string extends keyof E
  ? StreamEventOf<string, E[keyof E]>
  : { [K in EventName<E>]: StreamEventOf<K, E[K]> }[EventName<E>];

/** The event of map `E` named `K`. */
export type StreamEventNamed<E extends EventMap, K extends EventName<E>> = StreamEventOf<K, E[K]>;

/** An event of any map (what errors carry). */
export type AnyStreamEvent = StreamEventOf<string, unknown>;
