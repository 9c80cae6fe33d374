import { EventSource } from "eventsource";
import { waitFor } from "../wait-for.js";

/** One event as the `eventsource` client saw it. */
export interface Received {
  readonly type: string;
  readonly data: string;
  readonly id: string;
}

/** A real `EventSource` that records what it receives. */
export class EventClient {
  readonly received: Received[] = [];
  readonly #source: EventSource;

  /** Connects to `url`; with `lastEventId`, sends it as the `Last-Event-ID` header. */
  private constructor(url: string, lastEventId: string | undefined, types: string[]) {
    this.#source = new EventSource(url, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: { ...init.headers, ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) },
        }),
    });
    for (const type of ["message", ...types]) {
      this.#source.addEventListener(type, (event) => {
        this.received.push({ type, data: event.data, id: event.lastEventId });
      });
    }
  }

  /** Opens a client and waits until the stream is open. */
  static async open(
    url: string,
    options: { lastEventId?: string; types?: string[] } = {},
  ): Promise<EventClient> {
    const client = new EventClient(url, options.lastEventId, options.types ?? []);
    let open = false;
    let failed: unknown;
    client.#source.addEventListener("open", () => {
      open = true;
    });
    client.#source.addEventListener("error", (error) => {
      failed = error;
    });
    try {
      await waitFor(() => open || failed !== undefined, `a stream to ${url}`);
      if (!open) throw new Error(`EventSource to ${url} failed`, { cause: failed });
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  /** Data of the events received, in order. */
  get data(): string[] {
    return this.received.map((event) => event.data);
  }

  /** The id of the last event received. */
  get lastEventId(): string | undefined {
    return this.received.at(-1)?.id;
  }

  /** Waits until an event with `data` arrived. */
  waitForData(data: string, timeoutMs?: number): Promise<void> {
    return waitFor(() => this.data.includes(data), `event "${data}"`, timeoutMs);
  }

  close(): void {
    this.#source.close();
  }
}
