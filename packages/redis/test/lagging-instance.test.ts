import { waitFor } from "@se/testing";
import { REDIS_URL, redisAvailable } from "@se/testing/redis";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { type Instance, startInstance } from "./instance.js";
import { settle, withoutFences } from "./settle.js";
import { openClient, suiteScope } from "./suite-scope.js";
import { TcpProxy } from "./tcp-proxy.js";

describe.skipIf(!redisAvailable)(
  "a client that reconnects to an instance that is behind it",
  () => {
    const { prefix, opened } = suiteScope("lagging", { failOnUnhandledRejection: true });

    const open = (url: string, lastEventId?: string) => openClient(opened, url, lastEventId);

    it("while its history cannot be read: a reset, and never again what the client had", async () => {
      const commands = await TcpProxy.start(REDIS_URL);
      opened.push(commands);
      const subscription = await TcpProxy.start(REDIS_URL);
      opened.push(subscription);
      const client = new Redis(commands.url, { retryStrategy: () => 50 });
      client.on("error", () => {});
      opened.push({ close: () => client.disconnect() });
      const subscriber = new Redis(subscription.url, { retryStrategy: () => 50 });
      subscriber.on("error", () => {});
      opened.push({ close: () => subscriber.disconnect() });
      const a: Instance = await startInstance({ prefix, client, subscriber });
      opened.push(a);
      const b: Instance = await startInstance({ url: REDIS_URL, prefix });
      opened.push(b);
      const alice = await open(`${b.url}?seid=alice`);

      await Promise.all([commands.cut(), subscription.cut()]);
      await waitFor(() => !a.backplane.connected, "A to notice");
      for (let i = 0; i < 5; i++) b.hub.broadcast({ data: `e${i}` });
      await alice.waitForData("e4");
      alice.close();
      const back = await open(`${a.url}?seid=alice`, alice.lastEventId);
      await waitFor(() => back.received.length > 0, "the reset");
      await Promise.all([commands.restore(), subscription.restore()]);
      await waitFor(() => a.backplane.connected, "A to reconnect", 20_000);
      b.hub.broadcast({ data: "after" });
      await back.waitForData("after");
      await settle(back, "alice", [a, b]);
      expect(
        withoutFences(back.received.map((e) => (e.type === "se-reset" ? "<reset>" : e.data))),
      ).toEqual(["<reset>", "after"]);
    });

    it("while it only lags behind (its subscription is cut): nothing replayed, then every event once, no reset", async () => {
      const subscription = await TcpProxy.start(REDIS_URL);
      opened.push(subscription);
      const subscriber = new Redis(subscription.url, { retryStrategy: () => 50 });
      subscriber.on("error", () => {});
      opened.push({ close: () => subscriber.disconnect() });
      const a: Instance = await startInstance({ url: REDIS_URL, prefix, subscriber });
      opened.push(a);
      const b: Instance = await startInstance({ url: REDIS_URL, prefix });
      opened.push(b);
      const alice = await open(`${b.url}?seid=alice`);

      await subscription.cut();
      for (let i = 0; i < 5; i++) b.hub.broadcast({ data: `e${i}` });
      await alice.waitForData("e4");
      alice.close();
      // A has not delivered e0..e4: the client is ahead of it.
      const back = await open(`${a.url}?seid=alice`, alice.lastEventId);
      b.hub.broadcast({ data: "e5" });
      await subscription.restore();
      b.hub.broadcast({ data: "e6" });
      await back.waitForData("e6", 20_000);
      await settle(back, "alice", [a, b]);
      expect(
        withoutFences(back.received.map((e) => (e.type === "se-reset" ? "<reset>" : e.data))),
      ).toEqual(["e5", "e6"]);
    });
  },
);
