/**
 * Frames waiting for a slow client, oldest first, with their UTF-8 sizes. A connection only
 * creates one while its client is behind, so an idle or healthy connection holds none.
 * @internal
 */
export class FrameQueue {
  #frames: string[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;

  /** Frames waiting. */
  get length(): number {
    return this.#frames.length - this.#head;
  }

  /** UTF-8 bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  push(frame: string, size: number): void {
    this.#frames.push(frame);
    this.#sizes.push(size);
    this.#bytes += size;
  }

  /** Removes the oldest frame and returns it. Only call while `length > 0`. */
  shift(): string {
    const frame = this.#frames[this.#head] as string;
    this.#bytes -= this.#sizes[this.#head] as number;
    this.#frames[this.#head] = "";
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#frames.length) {
      this.#frames = this.#frames.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    return frame;
  }

  /** Every frame still waiting, as one string. */
  rest(): string {
    return this.#frames.slice(this.#head).join("");
  }
}
