/** What a sink reports back to the connection that owns it. */
export interface SinkListener {
  /** The consumer can take more bytes after `write` returned `false`. */
  drain(): void;
  /** The client went away (socket closed, stream cancelled). */
  close(): void;
}

/**
 * Anything that can carry an event stream to one client: a `node:http` response,
 * a Web `ReadableStream` controller, a test double. Sinks are transport only:
 * they never format, buffer policy or register anything.
 */
export interface EventSink {
  /** Writes text. Returns `false` when the consumer is saturated; `drain` follows later. */
  write(chunk: string): boolean;
  /** Ends the stream after what was written has been flushed. Idempotent. */
  end(): void;
  /** Tears the stream down now, discarding what is buffered. Idempotent. */
  destroy(): void;
  /**
   * Bytes written but not yet taken by the client, when the sink can tell (so the slow-client
   * bound counts them). Read only after `write` returned `false`.
   */
  bufferedBytes?(): number;
  /** Called once, by the connection, before the first write. */
  bind(listener: SinkListener): void;
}
