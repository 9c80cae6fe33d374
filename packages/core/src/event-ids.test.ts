import { describe, expect, it } from "vitest";
import { createIdGenerator } from "./event-ids.js";

describe("createIdGenerator", () => {
  it("is increasing and unique on a frozen clock, and seeded from it", () => {
    const next = createIdGenerator(() => 1_000);
    expect([next(), next(), next()]).toEqual(["1000000", "1000001", "1000002"]);
  });

  it("keeps increasing when the clock goes back", () => {
    let now = 5;
    const next = createIdGenerator(() => now);
    expect(next()).toBe("5000");
    now = 2;
    expect(next()).toBe("5001");
    now = 6;
    expect(next()).toBe("6000");
  });

  it("keeps no state between generators: each counts on its own", () => {
    const first = createIdGenerator(() => 1);
    const second = createIdGenerator(() => 1);
    expect([first(), first(), first()]).toEqual(["1000", "1001", "1002"]);
    expect(second()).toBe("1000");
  });

  it("seeds from the wall clock by default: a later process starts above an earlier one", () => {
    const before = Date.now() * 1000;
    const next = createIdGenerator();
    const ids = [next(), next(), next()].map(Number);
    expect(ids[0]).toBeGreaterThanOrEqual(before);
    expect(ids[1]).toBeGreaterThan(ids[0] as number);
    expect(ids[2]).toBeGreaterThan(ids[1] as number);
  });
});
