import { describe, expect, it } from "vitest";
import { SizedQueue } from "./sized-queue.js";

describe("SizedQueue", () => {
  it("keeps items in order with their total size", () => {
    const queue = new SizedQueue<string>();
    queue.push("a", 1);
    queue.push("bb", 2);
    queue.push("ccc", 3);
    expect([queue.length, queue.bytes, queue.peek()]).toEqual([3, 6, "a"]);
    expect(queue.shift()).toBe("a");
    expect([queue.length, queue.bytes, queue.peek()]).toEqual([2, 5, "bb"]);
    expect(queue.slice()).toEqual(["bb", "ccc"]);
    expect(queue.slice(1)).toEqual(["ccc"]);
  });

  it("stays correct across compactions", () => {
    const queue = new SizedQueue<number>();
    for (let i = 0; i < 5000; i++) {
      queue.push(i, 1);
      if (queue.length > 10) expect(queue.shift()).toBe(i - 10);
    }
    expect([queue.length, queue.bytes]).toEqual([10, 10]);
    expect(queue.slice()).toEqual(Array.from({ length: 10 }, (_, k) => 4990 + k));
  });
});
