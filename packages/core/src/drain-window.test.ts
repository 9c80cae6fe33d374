import { describe, expect, it } from "vitest";
import { endOverWindow } from "./drain-window.js";

describe("endOverWindow", () => {
  it("without a window: a few at once, many in slices with other tasks in between", async () => {
    const few: number[] = [];
    void endOverWindow([1, 2, 3], 0, (item) => few.push(item));
    expect(few).toEqual([1, 2, 3]);

    const items = Array.from({ length: 2000 }, (_, i) => i);
    const ended: number[] = [];
    let otherTasks = 0;
    const timer = setInterval(() => otherTasks++, 0);
    const done = endOverWindow(items, 0, (item) => ended.push(item));
    expect(ended.length).toBeGreaterThan(0);
    expect(ended.length).toBeLessThan(items.length);
    await done;
    clearInterval(timer);
    expect(ended).toEqual(items); // each once, in order
    expect(otherTasks).toBeGreaterThan(0);
  });

  it("with a window: none at once, then each item once, in a random order", async () => {
    const items = Array.from({ length: 500 }, (_, i) => i);
    const ended: number[] = [];
    const done = endOverWindow(items, 300, (item) => ended.push(item));
    expect(ended).toEqual([]);
    await done;
    expect([...ended].sort((a, b) => a - b)).toEqual(items);
    expect(ended).not.toEqual(items);
  });
});
