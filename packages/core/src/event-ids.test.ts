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

  it("a generator created later never issues an id below an earlier one's", () => {
    const first = createIdGenerator();
    const issued: bigint[] = [];
    for (let i = 0; i < 50_000; i++) issued.push(BigInt(first()));
    const second = createIdGenerator();
    for (let i = 0; i < 10; i++) issued.push(BigInt(second()));
    for (let i = 1; i < issued.length; i++) {
      expect(issued[i] as bigint).toBeGreaterThan(issued[i - 1] as bigint);
    }
  });
});
