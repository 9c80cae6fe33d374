import { EventSource } from "eventsource";
import { waitFor } from "./wait-for.js";

/** One event as the `eventsource` client saw it; `text` is a chat or DM's text. */
export interface Received {
  readonly type: string;
  readonly id: string;
  readonly text: string | undefined;
  readonly data: string;
}

const TYPES = ["chat", "dm", "presence", "progress", "se-reset", "shutdown"];

/** A real `EventSource` (the `eventsource` package) on the demo's `/events?token=…`. */
export class StreamClient {
  readonly received: Received[] = [];
  readonly #source: EventSource;

  private constructor(url: string, lastEventId: string | undefined) {
    this.#source = new EventSource(url, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: { ...init.headers, ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) },
        }),
    });
    for (const type of TYPES) {
      this.#source.addEventListener(type, (event) => {
        let text: string | undefined;
        if (type === "chat" || type === "dm")
          text = (JSON.parse(event.data) as { text: string }).text;
        this.received.push({ type, id: event.lastEventId, text, data: event.data });
      });
    }
  }

  /** Opens a stream (with `Last-Event-ID` when given) and waits until it is open. */
  static async open(url: string, lastEventId?: string): Promise<StreamClient> {
    const client = new StreamClient(url, lastEventId);
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

  /** Texts of the events of `type` (`chat` or `dm`), in order of arrival. */
  texts(type: "chat" | "dm"): (string | undefined)[] {
    return this.received.filter((event) => event.type === type).map((event) => event.text);
  }

  /** The id of the last event received. */
  get lastEventId(): string | undefined {
    return this.received.at(-1)?.id;
  }

  /** Waits until a chat or DM with `text` arrived. */
  waitForText(text: string): Promise<void> {
    return waitFor(() => this.received.some((event) => event.text === text), `"${text}"`);
  }

  close(): void {
    this.#source.close();
  }
}
