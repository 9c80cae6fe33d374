import { describe, expect, it } from "vitest";
import { WaitTimeoutError } from "./errors.js";
import { waitFor } from "./wait-for.js";

describe("waitFor", () => {
  it("resolves once a sync or async condition holds", async () => {
    let polls = 0;
    await waitFor(() => ++polls === 3, "the third poll");
    expect(polls).toBe(3);
    await waitFor(async () => ++polls === 5, "the fifth poll");
    expect(polls).toBe(5);
  });

  it("rejects with WaitTimeoutError naming what it waited for", async () => {
    const error = await waitFor(() => false, "the registry to empty", 50).catch((e) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error).toMatchObject({
      code: "SE_TESTING_WAIT_TIMEOUT",
      what: "the registry to empty",
      message: "Timed out waiting for the registry to empty (50 ms)",
    });
  });
});
