import { createParser, type EventSourceMessage } from "eventsource-parser";
import { EventTimeoutError, StreamDecodeError, StreamEndedError } from "./errors.js";
import type { StreamRequest } from "./open-stream.js";
import type {
  AnyStreamEvent,
  EventMap,
  EventName,
  StreamEvent,
  StreamEventNamed,
  TextEvents,
} from "./stream-event.js";

/** How a stream ended: `server` (the response ended or broke) or `client` (`close()`). */
export interface StreamEnd {
  readonly by: "server" | "client";
  /** The network or decode error that ended it, if any. */
  readonly error?: unknown;
}

/** Options of a single wait. */
export interface WaitOptions {
  /** How long to wait. @default the stream's `timeoutMs` (3000) */
  readonly timeoutMs?: number;
}

/** Options of `reconnect()`: what changes for the new request. */
export interface ReconnectOptions {
  /** @default the last event id this stream received, else the one it was opened with */
  readonly lastEventId?: string | undefined;
  /** Replaces the request headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

type Connect = <E extends EventMap>(request: StreamRequest) => Promise<EventStream<E>>;

/** What `openStream` hands to a new stream. */
export interface StreamInit {
  readonly request: StreamRequest;
  readonly response: Response;
  readonly body: ReadableStream<Uint8Array>;
  readonly controller: AbortController;
  readonly connect: Connect;
}

const asyncDispose: typeof Symbol.asyncDispose =
  Symbol.asyncDispose ?? (Symbol.for("Symbol.asyncDispose") as typeof Symbol.asyncDispose);

/**
 * One open event stream, read on a real socket and parsed by `eventsource-parser`. Events are
 * kept in `events`; `next`, `take`, `waitFor` and iteration consume them in order from one
 * shared cursor, so an event that arrived before you asked is not missed. Every wait has a
 * deadline and fails with an {@link EventTimeoutError} naming what it waited for.
 */
export class EventStream<E extends EventMap = TextEvents> implements AsyncIterable<StreamEvent<E>> {
  /** The URL requested. */
  readonly url: string;
  /** The response status (always 200: other answers reject `openStream`). */
  readonly status: number;
  readonly headers: Headers;
  /** Settles when the stream ended, with who ended it; never rejects. */
  readonly closed: Promise<StreamEnd>;

  readonly #init: StreamInit;
  readonly #events: StreamEvent<E>[] = [];
  readonly #waiters = new Set<() => void>();
  #cursor = 0;
  #comments = 0;
  #retry: number | undefined;
  #lastEventId: string | undefined;
  #end: StreamEnd | undefined;
  #failure: StreamDecodeError | undefined;

  /** @internal Use `openStream`. */
  constructor(init: StreamInit) {
    this.#init = init;
    this.url = init.request.url.href;
    this.status = init.response.status;
    this.headers = init.response.headers;
    this.#lastEventId = init.request.lastEventId;
    this.closed = this.#read(init.body);
  }

  /** Every event received so far, in order (consumed or not). */
  get events(): readonly StreamEvent<E>[] {
    return this.#events;
  }

  /** The id of the last event that had one, else the `Last-Event-ID` the stream was opened with. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** How many comment lines (heartbeats such as `: ping`) arrived; they are not events. */
  get comments(): number {
    return this.#comments;
  }

  /** The last `retry` value the server sent (a stream setting, not part of any event). */
  get retry(): number | undefined {
    return this.#retry;
  }

  /** False once the stream ended. */
  get open(): boolean {
    return this.#end === undefined;
  }

  /**
   * The next event not consumed yet.
   * @throws {EventTimeoutError} none within `timeoutMs`
   * @throws {StreamEndedError} the stream ended first
   */
  next(options: WaitOptions = {}): Promise<StreamEvent<E>> {
    return this.#consume(() => true, "the next event", options.timeoutMs);
  }

  /** The next `count` events (one deadline for all of them). Throws as `next` does. */
  async take(count: number, options: WaitOptions = {}): Promise<StreamEvent<E>[]> {
    const timeoutMs = options.timeoutMs ?? this.#init.request.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    const taken: StreamEvent<E>[] = [];
    while (taken.length < count) {
      const awaited = `event ${taken.length + 1} of ${count}`;
      const left = Math.max(0, deadline - Date.now());
      taken.push(await this.#consume(() => true, awaited, left, timeoutMs));
    }
    return taken;
  }

  /**
   * Consumes events until one named `event` (or matching `predicate`) arrives, and returns it.
   * @throws {EventTimeoutError} none within `timeoutMs`; the message lists the last events seen
   * @throws {StreamEndedError} the stream ended first
   * @example
   * const greeting = await stream.waitFor("greeting");
   * const mine = await stream.waitFor((event) => event.data.includes("alice"));
   */
  waitFor<K extends EventName<E>>(event: K, options?: WaitOptions): Promise<StreamEventNamed<E, K>>;
  waitFor<T extends StreamEvent<E>>(
    predicate: (event: StreamEvent<E>) => event is T,
    options?: WaitOptions,
  ): Promise<T>;
  waitFor(
    predicate: (event: StreamEvent<E>) => boolean,
    options?: WaitOptions,
  ): Promise<StreamEvent<E>>;
  waitFor(
    what: string | ((event: StreamEvent<E>) => boolean),
    options: WaitOptions = {},
  ): Promise<StreamEvent<E>> {
    if (typeof what === "string") {
      return this.#consume((event) => event.event === what, `event "${what}"`, options.timeoutMs);
    }
    const name = what.name ? ` ${what.name}` : "";
    return this.#consume(what, `an event matching the predicate${name}`, options.timeoutMs);
  }

  /**
   * Closes this stream and opens a new one to the same URL, sending `Last-Event-ID` (the last
   * event id received) as a browser's `EventSource` does on a reconnect.
   * @throws {StreamResponseError} the new request was not answered with an event stream
   */
  async reconnect(options: ReconnectOptions = {}): Promise<EventStream<E>> {
    await this.close();
    const lastEventId = "lastEventId" in options ? options.lastEventId : this.#lastEventId;
    return this.#init.connect<E>({
      ...this.#init.request,
      lastEventId,
      headers: options.headers ?? this.#init.request.headers,
    });
  }

  /** Aborts the request and resolves once reading stopped. Safe to call more than once. */
  async close(): Promise<void> {
    this.#init.controller.abort();
    await this.closed;
  }

  /** `await using stream = await openStream(...)` closes it at the end of the block. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Yields events until the stream ends; each step waits at most the stream's `timeoutMs`
   * (then throws {@link EventTimeoutError}). Breaking out of the loop leaves the stream open.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<StreamEvent<E>, void, undefined> {
    for (;;) {
      try {
        yield await this.next();
      } catch (error) {
        if (error instanceof StreamEndedError && this.#failure === undefined) return;
        throw error;
      }
    }
  }

  #consume(
    match: (event: StreamEvent<E>) => boolean,
    awaited: string,
    timeoutMs = this.#init.request.timeoutMs,
    reportedMs = timeoutMs,
  ): Promise<StreamEvent<E>> {
    return new Promise((resolve, reject) => {
      const events = this.#events as readonly AnyStreamEvent[];
      const check = () => {
        while (this.#cursor < this.#events.length) {
          const event = this.#events[this.#cursor++] as StreamEvent<E>;
          if (match(event)) return settle(() => resolve(event));
        }
        if (this.#failure !== undefined) return settle(() => reject(this.#failure));
        if (this.#end !== undefined) {
          const { by, error } = this.#end;
          return settle(() =>
            reject(new StreamEndedError({ awaited, url: this.url, events, by, cause: error })),
          );
        }
        this.#waiters.add(check);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new EventTimeoutError({ awaited, url: this.url, events, timeoutMs: reportedMs }));
      }, timeoutMs);
      const settle = (done: () => void) => {
        clearTimeout(timer);
        done();
      };
      check();
    });
  }

  #notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter();
  }

  #receive(message: EventSourceMessage): void {
    const raw: AnyStreamEvent = {
      event: message.event ?? "message",
      data: message.data,
      id: message.id,
    };
    if (message.id !== undefined) this.#lastEventId = message.id;
    let data: unknown;
    try {
      data = this.#init.request.decode(message.data, raw.event);
    } catch (error) {
      this.#failure = new StreamDecodeError(this.url, raw, error);
      this.#init.controller.abort();
      return;
    }
    this.#events.push({ ...raw, data } as StreamEvent<E>);
    this.#notify();
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<StreamEnd> {
    const { signal } = this.#init.controller;
    const parser = createParser({
      onEvent: (message) => {
        if (!signal.aborted) this.#receive(message);
      },
      onRetry: (retry) => {
        this.#retry = retry;
      },
      onComment: () => {
        this.#comments++;
      },
      // Not reached for text/event-stream; anything malformed is ignored, as EventSource does.
      onError: () => {},
    });
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let error: unknown;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch (caught) {
      if (!signal.aborted) error = caught;
    }
    reader.cancel().catch(() => {});
    const failure = this.#failure;
    this.#end =
      failure !== undefined
        ? { by: "client", error: failure }
        : { by: signal.aborted ? "client" : "server", ...(error === undefined ? {} : { error }) };
    this.#notify();
    return this.#end;
  }
}
