import { createParser, type EventSourceMessage } from "eventsource-parser";

/** What a stream delivered, in arrival order: events, and `:` comments (heartbeats). */
export type Arrival =
  | { kind: "event"; event: EventSourceMessage }
  | { kind: "comment"; text: string };

/**
 * Reads an event stream from a byte source with the spec parser (`eventsource-parser`) and
 * hands out what arrives one item at a time, each wait with a deadline, so a test can play
 * ping-pong: send one event, wait until it is here, send the next.
 */
export class EventReader {
  readonly arrivals: Arrival[] = [];
  /** Resolves when the byte source ends or fails (the stream was cut or ended). */
  readonly ended: Promise<void>;
  #taken = 0;
  #wake: (() => void) | undefined;
  #done = false;

  constructor(chunks: AsyncIterable<Uint8Array | string>) {
    const parser = createParser({
      onEvent: (event) => this.#push({ kind: "event", event }),
      onComment: (text) => this.#push({ kind: "comment", text }),
    });
    this.ended = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of chunks)
          parser.feed(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
      } catch {
        // A cut connection ends the stream as much as a clean end does.
      } finally {
        this.#done = true;
        this.#wake?.();
      }
    })();
  }

  /** `true` once the byte source ended. */
  get done(): boolean {
    return this.#done;
  }

  /** The next event (comments skipped), or an error after `timeoutMs`. */
  async nextEvent(timeoutMs = 5000): Promise<EventSourceMessage> {
    for (;;) {
      const arrival = await this.next(timeoutMs);
      if (arrival.kind === "event") return arrival.event;
    }
  }

  /** The next event or comment, or an error after `timeoutMs` or when the stream ends first. */
  async next(timeoutMs = 5000): Promise<Arrival> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const arrival = this.arrivals[this.#taken];
      if (arrival !== undefined) {
        this.#taken++;
        return arrival;
      }
      if (this.#done) throw new Error(`the stream ended; received ${this.#describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`nothing arrived within ${timeoutMs} ms; ${this.#describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** How many items arrived that `next` has not handed out yet. */
  get pending(): number {
    return this.arrivals.length - this.#taken;
  }

  #push(arrival: Arrival): void {
    this.arrivals.push(arrival);
    this.#wake?.();
  }

  #describe(): string {
    return `${this.arrivals.length} item(s) so far: ${JSON.stringify(this.arrivals.slice(-3))}`;
  }
}

/** Opens `url` with `fetch` and reads its body as an event stream. */
export async function openEvents(
  url: string,
  init: RequestInit = {},
): Promise<{ response: Response; reader: EventReader; abort(): void }> {
  const controller = new AbortController();
  const response = await fetch(url, { ...init, signal: controller.signal });
  if (!response.ok || response.body === null)
    throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  const body = response.body;
  const reader = new EventReader(body as unknown as AsyncIterable<Uint8Array>);
  return { response, reader, abort: () => controller.abort() };
}
