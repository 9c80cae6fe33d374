/**
 * One client of the storm scenario: an {@link SseClient} that reconnects with `Last-Event-ID`
 * whenever its stream ends (or when the load generator cuts it), and checks that the event
 * numbers continue across every reconnect: each event exactly once, in order.
 */
import { performance } from "node:perf_hooks";
import { SseClient } from "./sse-client.js";

/** Reconnect attempts one client may make after a failed one (refused, closed before the head). */
const MAX_RETRIES = 40;
/** Delay before retrying a failed attempt. */
const RETRY_DELAY_MS = 250;

const now = () => performance.timeOrigin + performance.now();

export class StormClient {
  #stream: SseClient;
  #stopped = false;
  /** Reconnects made, failed attempts included. */
  attempts = 0;
  /** Attempts that failed (closed before the head, or refused with a status). */
  failedAttempts = 0;
  /** Streams the server ended by itself (not by a cut of ours). */
  serverEnds = 0;
  /** Wall-clock time (ms) of the last cut, or NaN before any. */
  cutAt = Number.NaN;
  /** When the stream after the last cut opened (head 200), or NaN. */
  reopenedAt = Number.NaN;
  /**
   * When this client got its first event sent after its new stream opened: from then on it
   * has everything (the sequence numbers are contiguous), or NaN while it has not.
   */
  recoveredAt = Number.NaN;
  errors = 0;
  firstError: string | undefined;

  constructor(
    readonly port: number,
    readonly localAddress: string,
  ) {
    this.#stream = this.#open(undefined, 0);
  }

  /** Events received so far, over every stream (the next sequence number expected). */
  get count(): number {
    return this.#stream.count;
  }

  /** Resolves once the first stream's head arrived. */
  opened(): Promise<void> {
    return this.#stream.opened();
  }

  /** Cuts the stream from the client side (the socket is destroyed) and reconnects at once. */
  cut(at: number): void {
    this.markCut(at);
    const old = this.#stream;
    this.#collect(old);
    old.onClose = undefined;
    old.onEvent = undefined;
    old.close();
    this.#reconnect();
  }

  /** Marks the start of a storm the server causes (its streams end; the client reconnects by itself). */
  markCut(at: number): void {
    this.cutAt = at;
    this.reopenedAt = Number.NaN;
    this.recoveredAt = Number.NaN;
  }

  stop(): void {
    this.#stopped = true;
    this.#stream.onClose = undefined;
    this.#collect(this.#stream);
    this.#stream.close();
  }

  /** Errors seen by the current stream are added to this client's when it is replaced. */
  #collect(stream: SseClient): void {
    if (stream.errors === 0) return;
    this.errors += stream.errors;
    this.firstError ??= stream.firstError;
    stream.errors = 0;
  }

  #open(lastEventId: string | undefined, from: number): SseClient {
    const stream = new SseClient({
      port: this.port,
      localAddress: this.localAddress,
      trackIds: true,
      from,
      ...(lastEventId === undefined ? {} : { lastEventId }),
    });
    stream.onEvent = (_seq, sentMs) => {
      if (Number.isNaN(this.recoveredAt) && sentMs >= this.reopenedAt) this.recoveredAt = now();
    };
    stream.opened().then(
      () => {
        if (Number.isNaN(this.cutAt) || this.#stream !== stream) return;
        this.reopenedAt = now();
        this.recoveredAt = Number.NaN;
      },
      () => {}, // closed before the head: onClose retries
    );
    stream.onClose = () => {
      if (this.#stopped) return;
      this.#collect(stream);
      if (!stream.open) {
        this.failedAttempts++;
        if (this.failedAttempts > MAX_RETRIES) {
          this.errors++;
          this.firstError ??= `gave up after ${MAX_RETRIES} failed reconnects`;
          return;
        }
        setTimeout(() => this.#reconnect(), RETRY_DELAY_MS);
        return;
      }
      this.serverEnds++;
      this.#reconnect();
    };
    return stream;
  }

  #reconnect(): void {
    if (this.#stopped) return;
    this.attempts++;
    const previous = this.#stream;
    this.#stream = this.#open(previous.lastId, previous.count);
    // The id of the last event received survives a stream that failed before any event.
    if (this.#stream.lastId === undefined) this.#stream.lastId = previous.lastId;
  }
}
