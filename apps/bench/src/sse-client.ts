/**
 * A minimal, fast `text/event-stream` client on a raw TCP socket: HTTP/1.1 head, chunked
 * transfer decoding, and frame counting. Every event's `data` starts with its sequence
 * number (see `payload()`); the client checks they arrive in order, each exactly once.
 */
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const QUOTE = 0x22;
const ZERO = 0x30;
const NINE = 0x39;
const BLANK_LINE = Buffer.from("\n\n");
const HEAD_END = Buffer.from("\r\n\r\n");

enum Chunk {
  Size,
  SizeLineEnd,
  Data,
  DataCr,
  DataLf,
}

export interface ClientOptions {
  port: number;
  /** Stop reading after the head (the stalled reader). */
  stall?: boolean;
  /** Loopback source address to connect from (spreads many clients over several 4-tuples). */
  localAddress?: string;
  /** Sent as the `Last-Event-ID` header (a reconnect). */
  lastEventId?: string;
  /** The sequence number expected first (a reconnect continues where the last stream ended). @default 0 */
  from?: number;
  /** Keep {@link SseClient.lastId}, the last `id:` field received. @default false */
  trackIds?: boolean;
}

export class SseClient {
  readonly socket: Socket;
  /** Events received (frames with a data line) in the current round. */
  count = 0;
  /** Events out of order, duplicated, or not ours, in the current round. */
  errors = 0;
  firstError: string | undefined;
  /** Set when the head arrived with status 200. */
  open = false;
  closed = false;
  #target = Number.POSITIVE_INFINITY;
  #onTarget: (() => void) | undefined;
  #latencies: number[] | undefined;
  #head: Buffer | null = Buffer.alloc(0);
  #chunked = false;
  #chunk = Chunk.Size;
  #chunkLeft = 0;
  #tail: Buffer | null = null;
  #onOpen: ((error?: Error) => void) | undefined;
  /** Called when the server closes the stream. */
  onClose: (() => void) | undefined;
  /** Called for every event in order, with its send time (ms, wall clock) when it carries one, else NaN. */
  onEvent: ((seq: number, sentMs: number) => void) | undefined;
  /** The last `id:` field received (with `trackIds`). */
  lastId: string | undefined;
  readonly #trackIds: boolean;

  constructor(options: ClientOptions) {
    this.count = options.from ?? 0;
    this.#trackIds = options.trackIds === true;
    const socket = connect({
      port: options.port,
      host: "127.0.0.1",
      noDelay: true,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    this.socket = socket;
    const resume =
      options.lastEventId === undefined ? "" : `Last-Event-ID: ${options.lastEventId}\r\n`;
    socket.on("connect", () => {
      socket.write(
        `GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n${resume}\r\n`,
      );
    });
    socket.on("data", (buffer: Buffer) => {
      if (this.#head !== null) this.#readHead(buffer, options.stall === true);
      else this.#readBody(buffer);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.#onOpen?.(new Error("closed before the head"));
      this.onClose?.();
    });
  }

  /** Resolves when the response head (200) arrived. */
  opened(): Promise<void> {
    if (this.open) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#onOpen = (error) => {
        this.#onOpen = undefined;
        if (error) reject(error);
        else resolve();
      };
    });
  }

  /**
   * Starts a round: counts from zero and calls `done` once `target` events arrived. With
   * `latency`, events carry their send time (`seq:µs:…`) and the delay of each is recorded.
   */
  expect(target: number, done: () => void, latency = false): void {
    this.count = 0;
    this.errors = 0;
    this.firstError = undefined;
    this.#target = target;
    this.#onTarget = done;
    this.#latencies = latency ? [] : undefined;
  }

  /** Send → receive delay of each event of a `latency` round, in ms. */
  get latencies(): readonly number[] {
    return this.#latencies ?? [];
  }

  close(): void {
    this.socket.destroy();
  }

  #readHead(buffer: Buffer, stall: boolean): void {
    const head = Buffer.concat([this.#head as Buffer, buffer]);
    const end = head.indexOf(HEAD_END);
    if (end === -1) {
      this.#head = head;
      return;
    }
    const text = head.subarray(0, end).toString("latin1");
    this.#head = null;
    const status = Number(text.slice(9, 12));
    if (status !== 200) {
      this.#onOpen?.(new Error(`status ${status}: ${text.split("\r\n")[0]}`));
      this.socket.destroy();
      return;
    }
    this.#chunked = /\r\ntransfer-encoding:\s*chunked/i.test(text);
    this.open = true;
    if (stall) this.socket.pause();
    this.#onOpen?.();
    const rest = head.subarray(end + 4);
    if (rest.length > 0) this.#readBody(rest);
  }

  #readBody(buffer: Buffer): void {
    if (!this.#chunked) {
      this.#frames(buffer);
      return;
    }
    let pos = 0;
    const length = buffer.length;
    while (pos < length) {
      switch (this.#chunk) {
        case Chunk.Size: {
          const byte = buffer[pos++] as number;
          if (byte === CR) this.#chunk = Chunk.SizeLineEnd;
          else if (byte !== SPACE && byte !== 0x3b)
            this.#chunkLeft = this.#chunkLeft * 16 + hexValue(byte);
          break;
        }
        case Chunk.SizeLineEnd:
          pos++; // LF
          if (this.#chunkLeft === 0) {
            this.socket.destroy(); // last chunk: the server ended the stream
            return;
          }
          this.#chunk = Chunk.Data;
          break;
        case Chunk.Data: {
          const take = Math.min(this.#chunkLeft, length - pos);
          this.#frames(buffer.subarray(pos, pos + take));
          pos += take;
          this.#chunkLeft -= take;
          if (this.#chunkLeft === 0) this.#chunk = Chunk.DataCr;
          break;
        }
        case Chunk.DataCr:
          pos++;
          this.#chunk = Chunk.DataLf;
          break;
        case Chunk.DataLf:
          pos++;
          this.#chunk = Chunk.Size;
          break;
      }
    }
  }

  /** Splits decoded body bytes into frames (blank-line terminated) and counts the events. */
  #frames(input: Buffer): void {
    let buffer = input;
    if (this.#tail !== null) {
      buffer = Buffer.concat([this.#tail, input]);
      this.#tail = null;
    }
    let start = 0;
    for (;;) {
      const end = buffer.indexOf(BLANK_LINE, start);
      if (end === -1) break;
      this.#frame(buffer, start, end + 1);
      start = end + 2;
    }
    if (start < buffer.length) this.#tail = buffer.subarray(start);
  }

  /** One frame: `buffer[start, end)`, every line LF-terminated. Frames without data are not events. */
  #frame(buffer: Buffer, start: number, end: number): void {
    if (this.#trackIds) this.#readId(buffer, start, end);
    let line = start;
    while (line < end) {
      if (
        buffer[line] === 0x64 &&
        buffer[line + 1] === 0x61 &&
        buffer[line + 2] === 0x74 &&
        buffer[line + 3] === 0x61 &&
        buffer[line + 4] === COLON
      ) {
        this.#event(buffer, line + 5);
        return;
      }
      line = buffer.indexOf(LF, line) + 1;
    }
  }

  /** Keeps the frame's `id:` field (the spec's last event id), if it has one. */
  #readId(buffer: Buffer, start: number, end: number): void {
    let line = start;
    while (line < end) {
      const next = buffer.indexOf(LF, line) + 1;
      if (next === 0) return;
      if (buffer[line] === 0x69 && buffer[line + 1] === 0x64 && buffer[line + 2] === COLON) {
        const value = buffer[line + 3] === SPACE ? line + 4 : line + 3;
        this.lastId = buffer.toString("latin1", value, next - 1);
      }
      line = next;
    }
  }

  #event(buffer: Buffer, at: number): void {
    let pos = at;
    if (buffer[pos] === SPACE) pos++;
    if (buffer[pos] === QUOTE) pos++; // peers that JSON-encode string data
    let seq = 0;
    let digits = 0;
    for (;;) {
      const byte = buffer[pos++] as number;
      if (byte < ZERO || byte > NINE) break;
      seq = seq * 10 + (byte - ZERO);
      digits++;
    }
    let sentMs = Number.NaN;
    if (
      (this.#latencies !== undefined || this.onEvent !== undefined) &&
      buffer[pos - 1] === COLON
    ) {
      let sentUs = 0;
      for (;;) {
        const byte = buffer[pos++] as number;
        if (byte < ZERO || byte > NINE) break;
        sentUs = sentUs * 10 + (byte - ZERO);
      }
      sentMs = sentUs / 1000;
      this.#latencies?.push(performance.timeOrigin + performance.now() - sentMs);
    }
    if (digits === 0 || seq !== this.count) {
      this.errors++;
      this.firstError ??=
        digits === 0
          ? `event without a sequence number: ${buffer.subarray(at, at + 40).toString()}`
          : `expected event ${this.count}, got ${seq}`;
    }
    this.count++;
    this.onEvent?.(seq, sentMs);
    if (this.count === this.#target) this.#onTarget?.();
  }
}

function hexValue(byte: number): number {
  if (byte >= ZERO && byte <= NINE) return byte - ZERO;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  throw new Error(`bad chunk size byte ${byte}`);
}
