import { waitFor } from "@se/testing";
import { EventClient } from "@se/testing/eventsource";

/** One event as the `eventsource` client saw it; `text` is a chat or DM's text. */
export interface Received {
  readonly type: string;
  readonly id: string;
  readonly text: string | undefined;
  readonly data: string;
}

const TYPES = ["chat", "dm", "presence", "progress", "se-reset", "shutdown"];

/** A real `EventSource` on the demo's `/events?token=…` that reads chat and DM texts. */
export class StreamClient {
  readonly #client: EventClient;

  private constructor(client: EventClient) {
    this.#client = client;
  }

  /** Opens a stream (with `Last-Event-ID` when given) and waits until it is open. */
  static async open(url: string, lastEventId?: string): Promise<StreamClient> {
    return new StreamClient(await EventClient.open(url, { lastEventId, types: TYPES }));
  }

  /** Every event of the demo's types, in order of arrival. */
  get received(): Received[] {
    return this.#client.received
      .filter((event) => event.type !== "message")
      .map(({ type, id, data }) => ({
        type,
        id,
        data,
        text:
          type === "chat" || type === "dm"
            ? (JSON.parse(data) as { text: string }).text
            : undefined,
      }));
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
    this.#client.close();
  }
}
