import { describe, expect, it } from "vitest";
import { HybridClock } from "./hybrid-clock.js";

describe("HybridClock", () => {
  it("makes ids from the wall clock in microseconds, with the node suffix", () => {
    const clock = new HybridClock({ now: () => 1_700_000_000_000, node: "n1" });
    expect(clock.next()).toBe("1700000000000000-n1");
    expect(clock.next()).toBe("1700000000000001-n1");
  });

  it("keeps increasing when the wall clock stands still or steps back", () => {
    let now = 1_700_000_000_000;
    const clock = new HybridClock({ now: () => now, node: "n1" });
    const ids = [clock.next()];
    now -= 5000;
    for (let i = 0; i < 5; i++) ids.push(clock.next());
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("moves past observed ids, so an id made after receiving one is greater", () => {
    const behind = new HybridClock({ now: () => 1_700_000_000_000, node: "b" });
    const ahead = new HybridClock({ now: () => 1_700_000_009_000, node: "a" });
    const seen = ahead.next();
    behind.observe(seen);
    const next = behind.next();
    expect(next > seen).toBe(true);
    expect(next).toBe("1700000009000001-b");
  });

  it("stays unique across nodes that reach the same counter", () => {
    const one = new HybridClock({ now: () => 1_700_000_000_000, node: "one" });
    const two = new HybridClock({ now: () => 1_700_000_000_000, node: "two" });
    expect(one.next()).not.toBe(two.next());
  });

  it("ignores ids in other formats", () => {
    const clock = new HybridClock({ now: () => 1_700_000_000_000, node: "n" });
    clock.observe("99999999999999999999");
    clock.observe("custom-id");
    expect(clock.next()).toBe("1700000000000000-n");
  });

  it("pads a small clock to 16 digits so ids compare as strings", () => {
    const clock = new HybridClock({ now: () => 5, node: "n" });
    expect(clock.next()).toBe("0000000000005000-n");
  });

  it("rejects a node that could break the id format", () => {
    expect(() => new HybridClock({ node: "a-b" })).toThrow(/node/);
    expect(() => new HybridClock({ node: "" })).toThrow(/node/);
  });
});
