import { createParser } from "eventsource-parser";
import type { ClientRecord, ConnectionRecord, ReceivedEvent } from "./delivery-checker.js";
import { keyOfData } from "./delivery-checker.js";

/** A shared counter that orders everything a model test observes: sends, connects, receipts. */
export class TestClock {
  #now = 0;

  tick(): number {
    return ++this.#now;
  }
}

interface MutableConnection extends ConnectionRecord {
  openedSeq: number | undefined;
  ended: "client" | "server" | undefined;
  readonly received: ReceivedEvent[];
  readonly failures: string[];
}

interface Live {
  readonly record: MutableConnection;
  readonly controller: AbortController;
  /** Settles when the read loop has ended (never rejects). */
  readonly done: Promise<void>;
}

export interface ConnectOptions {
  /** Name of the instance the URL points to (for the log). */
  readonly instance: string;
  /** The events URL, without `lastEventId`. */
  readonly url: string;
  /** How to send `Last-Event-ID` (when the client has one). @default "header" */
  readonly via?: "header" | "query";
  /** Extra request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** How long to wait for the response headers. @default 5000 */
  readonly timeoutMs?: number;
  /**
   * Cuts the connection right after this many events, dropping whatever else already
   * arrived (a network cut between two events, e.g. mid-replay).
   */
  readonly cutAfter?: number;
}

/**
 * One client of a model test: `fetch` reading the body stream through `eventsource-parser`,
 * one connection at a time. The test reconnects it (so it controls `Last-Event-ID`), cuts
 * it with an `AbortController`, and can stop reading the body for a while (`pause`).
 * Sends `x-seid` (for the app's `seidGenerator`) and `x-connection` (the connection's id) headers.
 */
export class ModelClient {
  readonly #clock: TestClock;
  readonly #connections: MutableConnection[] = [];
  #live: Live | undefined;
  #lastEventId: string | undefined;
  #paused: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(
    readonly name: string,
    readonly seid: string,
    readonly topics: readonly string[],
    clock: TestClock,
  ) {
    this.#clock = clock;
  }

  /** The last event id the client saw (the SSE "last event ID buffer"). */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** True while a connection's body is being read (or paused). */
  get connected(): boolean {
    return this.#live !== undefined;
  }

  get paused(): boolean {
    return this.#paused !== undefined;
  }

  /** The id the next connection will get. */
  get nextConnectionId(): string {
    return `${this.name}/${this.#connections.length}`;
  }

  /** The connection being read, if any. */
  get current(): ConnectionRecord | undefined {
    return this.#live?.record;
  }

  /** Whether any of its connections received an event with `key`. */
  has(key: string): boolean {
    return this.#connections.some((connection) =>
      connection.received.some((event) => event.key === key),
    );
  }

  /** How many events of `type` the client received over all its connections. */
  count(type: string): number {
    return this.#connections.reduce(
      (sum, connection) => sum + connection.received.filter((event) => event.type === type).length,
      0,
    );
  }

  /**
   * Opens a connection (the previous one must have ended). Resolves once the response headers
   * arrived (or the request failed: the failure is recorded, not thrown).
   */
  async connect(options: ConnectOptions): Promise<void> {
    if (this.#live !== undefined) throw new Error(`${this.name} is already connected`);
    const lastEventId = this.#lastEventId;
    const via = lastEventId === undefined ? undefined : (options.via ?? "header");
    const record: MutableConnection = {
      id: this.nextConnectionId,
      instance: options.instance,
      lastEventId,
      lastEventIdVia: via,
      requestedSeq: this.#clock.tick(),
      openedSeq: undefined,
      ended: undefined,
      received: [],
      failures: [],
    };
    this.#connections.push(record);
    const url = new URL(options.url);
    if (via === "query") url.searchParams.set("lastEventId", lastEventId as string);
    const headers: Record<string, string> = {
      accept: "text/event-stream",
      "x-seid": this.seid,
      "x-connection": record.id,
      ...options.headers,
    };
    if (via === "header") headers["last-event-id"] = lastEventId as string;
    const controller = new AbortController();
    const timeoutMs = options.timeoutMs ?? 5000;
    const timer = setTimeout(
      () => controller.abort(new Error(`no response within ${timeoutMs} ms`)),
      timeoutMs,
    );
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: controller.signal });
    } catch (error) {
      record.failures.push(
        `request failed: ${(controller.signal.reason as Error | undefined)?.message ?? String(error)}`,
      );
      return;
    } finally {
      clearTimeout(timer);
    }
    const type = response.headers.get("content-type") ?? "";
    if (
      response.status !== 200 ||
      !type.startsWith("text/event-stream") ||
      response.body === null
    ) {
      const text = await response.text().catch(() => "");
      record.failures.push(`HTTP ${response.status} (${type}): ${text.slice(0, 200)}`);
      return;
    }
    record.openedSeq = this.#clock.tick();
    const body = response.body;
    const live: Live = {
      record,
      controller,
      done: this.#read(body, record, controller, options.cutAfter),
    };
    this.#live = live;
  }

  /** Cuts the connection being read, if any, and waits until its read loop ended. */
  async disconnect(): Promise<void> {
    const live = this.#live;
    if (live === undefined) return;
    live.controller.abort();
    this.resume();
    await live.done;
  }

  /** Stops reading the body until `resume()` (the server sees backpressure once buffers fill). */
  pause(): void {
    if (this.#paused !== undefined) return;
    let resolve = () => {};
    const promise = new Promise<void>((done) => {
      resolve = done;
    });
    this.#paused = { promise, resolve };
  }

  resume(): void {
    const paused = this.#paused;
    this.#paused = undefined;
    paused?.resolve();
  }

  /** What the checker needs. */
  record(): ClientRecord {
    return {
      name: this.name,
      seid: this.seid,
      topics: this.topics,
      connections: this.#connections,
    };
  }

  async #read(
    body: ReadableStream<Uint8Array>,
    record: MutableConnection,
    controller: AbortController,
    cutAfter: number | undefined,
  ): Promise<void> {
    const parser = createParser({
      onEvent: (event) => {
        if (controller.signal.aborted) return;
        record.received.push({
          type: event.event ?? "message",
          key: keyOfData(event.data),
          id: event.id,
          seq: this.#clock.tick(),
        });
        if (event.id !== undefined) this.#lastEventId = event.id;
        if (cutAfter !== undefined && record.received.length >= cutAfter) controller.abort();
      },
      onError: (error) => {
        record.failures.push(`parse error: ${error.message}`);
      },
    });
    const reader = body.getReader();
    const decoder = new TextDecoder();
    try {
      // Bounded by the stream's end; the bound only guards against a stream that never ends.
      for (let chunk = 0; chunk < 100_000_000; chunk++) {
        while (this.#paused !== undefined && !controller.signal.aborted) await this.#paused.promise;
        if (controller.signal.aborted) break;
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch {
      // Aborted by the test, or the server ended the stream mid-chunk: the connection is over.
    } finally {
      record.ended = controller.signal.aborted ? "client" : "server";
      reader.cancel().catch(() => {});
      if (this.#live?.record === record) this.#live = undefined;
    }
  }
}
