/**
 * A FIFO of items with their sizes (UTF-8 bytes) and a running total: a connection's frames
 * waiting for a slow client, and the replay history's entries. `shift` advances a head index
 * and clears the slot at once, so a removed item can be collected immediately; the array is
 * compacted once more than half of it (and over 1024 slots) lies behind the head.
 * @internal
 */
export class SizedQueue<T> {
  #items: (T | undefined)[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;

  /** Items waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Sum of the waiting items' sizes. */
  get bytes(): number {
    return this.#bytes;
  }

  push(item: T, size: number): void {
    this.#items.push(item);
    this.#sizes.push(size);
    this.#bytes += size;
  }

  /** The oldest item. Only call while `length > 0`. */
  peek(): T {
    return this.#items[this.#head] as T;
  }

  /** The item at position `index` (0 = the oldest). Only call with `index < length`. */
  at(index: number): T {
    return this.#items[this.#head + index] as T;
  }

  /** Removes the oldest item and returns it. Only call while `length > 0`. */
  shift(): T {
    const item = this.#items[this.#head] as T;
    this.#bytes -= this.#sizes[this.#head] as number;
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** The waiting items from position `from` (0 = the oldest) on, oldest first. */
  slice(from = 0): T[] {
    return this.#items.slice(this.#head + from) as T[];
  }
}
