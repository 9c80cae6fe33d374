import type { AddressInfo } from "node:net";
import { redisBackplane } from "@se/redis";
import { deleteKeys, REDIS_URL, redisAvailable, uniquePrefix } from "@se/testing/redis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
// The proxy @se/redis's own tests cut Redis with (DEVELOPERS.md: outages are made in the test).
import { TcpProxy } from "../../../packages/redis/test/tcp-proxy.js";
import { buildApp, type MetricsApp } from "../src/server.js";
import { parseExposition, samplesByKey } from "./exposition.js";

// Without Redis this suite skips (test-support says why); SE_REQUIRE_REDIS=1 makes it fail.
describe.skipIf(!redisAvailable)("se_backplane_* with @se/redis behind a TCP proxy", () => {
  const prefix = uniquePrefix("example-prometheus");
  const opened: Array<{ close(): unknown }> = [];

  afterEach(async () => {
    for (const item of opened.splice(0).reverse()) await item.close();
  });
  afterAll(() => deleteKeys(prefix));

  async function scrape({ app }: MetricsApp): Promise<Record<string, number>> {
    const { port } = app.server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    return samplesByKey(parseExposition(await response.text()), "se_backplane_");
  }

  it("reports the backplane up, down while Redis is cut, and up again", async () => {
    const proxy = await TcpProxy.start(REDIS_URL);
    opened.push(proxy);
    const started = await buildApp({
      heartbeatMs: false,
      backplane: redisBackplane({ url: proxy.url, prefix }),
    });
    opened.push(started.app);
    await started.app.listen({ port: 0, host: "127.0.0.1" });
    await started.app.se.hub.ready();
    await expect
      .poll(() => scrape(started), { timeout: 10_000 })
      .toEqual({ se_backplane_errors_total: 0, se_backplane_up: 1 });

    await proxy.cut();
    await expect
      .poll(() => scrape(started), { timeout: 10_000 })
      .toEqual({ se_backplane_errors_total: 1, se_backplane_up: 0 });

    await proxy.restore();
    await expect
      .poll(() => scrape(started), { timeout: 15_000 })
      .toEqual({ se_backplane_errors_total: 1, se_backplane_up: 1 });
  });
});
