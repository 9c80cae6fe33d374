/**
 * A steady stream of events from inside a benchmark server: one broadcast every `gapMs`,
 * numbered from 0 and stamped with its send time (`seq:µs:…`), until stopped. The storm
 * scenario keeps it running while every client is cut and reconnects.
 */
import { type SendToAll, stampedPayload } from "./server-kit.js";

/** The most events one ticker sends: bounds a run whose stop request never comes. */
const MAX_EVENTS = 1_000_000;

export class Ticker {
  #sent = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #error: string | undefined;

  /** Events handed to the library so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Starts ticking from event 0; a ticker already running is restarted. */
  start(send: SendToAll, gapMs: number, size: number): void {
    this.stop();
    this.#sent = 0;
    this.#error = undefined;
    const padding = "x".repeat(size);
    const step = (): void => {
      try {
        send(stampedPayload(this.#sent, size, padding));
        this.#sent++;
      } catch (error) {
        this.#error = (error as Error).message;
        this.#timer = undefined;
        return;
      }
      this.#timer = this.#sent < MAX_EVENTS ? setTimeout(step, gapMs) : undefined;
    };
    this.#timer = setTimeout(step, gapMs);
  }

  /** Stops; answers how many events were sent and the send error that stopped it, if any. */
  stop(): { sent: number; error?: string } {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    return { sent: this.#sent, ...(this.#error ? { error: this.#error } : {}) };
  }
}
