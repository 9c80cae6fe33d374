import { comparePositions } from "@se/core";
import type { Redis } from "ioredis";
import { decodeEntry, type PublishedEntry, type StreamEntry } from "./envelope-codec.js";

/** What a {@link StreamFollower} works with. @internal */
export interface StreamFollowerOptions {
  /** The command connection (catch-up reads). */
  readonly client: Redis;
  /** The stream's key. */
  readonly key: string;
  /** Called for every entry after the head, in stream order, exactly once per position. */
  readonly deliver: (entry: StreamEntry) => void;
  /** The head was trimmed away: events up to `position` (the newest) may be missing for everyone. */
  readonly gap: (position: string) => void;
  /** The newest position (writing the origin marker into an empty stream). */
  readonly newest: () => Promise<string>;
  /** A catch-up read failed (it is retried). */
  readonly fail: (error: unknown) => void;
}

const PAGE = 500;
const RETRY_MS = 250;

/**
 * Delivers the stream in order from a head position: live from pub/sub while each message's
 * `prev` is the head, else by reading the stream from the head (a catch-up) until it has
 * delivered everything it has seen published. A head that is no longer in the stream (trimmed)
 * becomes a gap at the newest position. @internal
 */
export class StreamFollower {
  readonly #options: StreamFollowerOptions;
  #head: string | undefined;
  /** The newest position seen on pub/sub. */
  #latest: string | undefined;
  #catchingUp = false;
  /** A catch-up failed or could not start: run it when the command connection is back. */
  #due = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: StreamFollowerOptions) {
    this.#options = options;
  }

  /** The position of the last entry delivered (or sought); `undefined` before {@link start}. */
  get head(): string | undefined {
    return this.#head;
  }

  /** Starts from `head`, with nothing before it to deliver. */
  start(head: string): void {
    this.#head = head;
    if (this.#latest !== undefined && comparePositions(this.#latest, head) > 0) this.catchUp();
  }

  /** A pub/sub message from the append script. */
  onMessage(message: PublishedEntry): void {
    const { prev, position } = message;
    if (this.#latest === undefined || comparePositions(position, this.#latest) > 0) {
      this.#latest = position;
    }
    const head = this.#head;
    if (head === undefined || this.#catchingUp || this.#closed) return;
    if (comparePositions(position, head) <= 0) return;
    if (prev !== head) {
      this.catchUp();
      return;
    }
    this.#head = position;
    const entry = decodeEntry(position, message.kind, message.payload);
    if (entry !== undefined) this.#options.deliver(entry);
  }

  /** Reads the stream from the head (after a reconnect, or a missed message). */
  catchUp(): void {
    if (this.#catchingUp || this.#closed || this.#head === undefined) return;
    if (this.#options.client.status !== "ready") {
      this.#due = true;
      return;
    }
    this.#due = false;
    this.#catchingUp = true;
    this.#read().then(
      () => {
        this.#catchingUp = false;
      },
      (error: unknown) => {
        this.#catchingUp = false;
        if (this.#closed) return;
        this.#due = true;
        this.#options.fail(error);
        this.#retryLater();
      },
    );
  }

  /** The command connection is back: runs a catch-up that is due. */
  resume(): void {
    if (this.#due) this.catchUp();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  async #read(): Promise<void> {
    const { client, key } = this.#options;
    for (;;) {
      const head = this.#head as string;
      const rows = (await client.xrange(key, head, "+", "COUNT", PAGE + 1)) as [string, string[]][];
      if (this.#closed) return;
      if (rows[0]?.[0] !== head) {
        const newest = await this.#options.newest();
        if (this.#closed) return;
        this.#head = newest;
        this.#options.gap(newest);
        continue;
      }
      for (let i = 1; i < rows.length; i++) {
        const [position, fields] = rows[i] as [string, string[]];
        this.#head = position;
        const entry = decodeEntry(position, fields[1] ?? "", fields[3] ?? "");
        if (entry !== undefined) this.#options.deliver(entry);
      }
      const caughtUp =
        this.#latest === undefined || comparePositions(this.#latest, this.#head as string) <= 0;
      if (rows.length <= PAGE && caughtUp) return;
    }
  }

  #retryLater(): void {
    if (this.#options.client.status !== "ready") return; // resume() runs it on "ready"
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.catchUp(), RETRY_MS);
    this.#timer.unref?.();
  }
}
