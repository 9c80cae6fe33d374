import { EventHub } from "@se/core";
import { REDIS_URL, redisAvailable } from "@se/testing/redis";
import { describe, expect, it } from "vitest";
import { RedisBackplane } from "../src/index.js";
import { suiteScope } from "./suite-scope.js";

describe.skipIf(!redisAvailable)("a hub given only the backplane", () => {
  const { prefix, opened } = suiteScope("default-history");

  it("uses the backplane's shared history by default", async () => {
    const backplane = new RedisBackplane({ url: REDIS_URL, prefix });
    const hub = new EventHub({ backplane });
    opened.push(hub);
    await hub.ready();
    expect(hub.history?.shared).toBe(true);
    // The hub took the backplane's one history.
    expect(() => backplane.history()).toThrow(
      expect.objectContaining({ code: "SE_ERR_BACKPLANE_IN_USE" }),
    );
  });
});
