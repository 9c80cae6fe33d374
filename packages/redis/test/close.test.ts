import { EventHub } from "@se/core";
import { waitFor } from "@se/testing";
import { REDIS_URL, redisAvailable } from "@se/testing/redis";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RedisBackplane } from "../src/index.js";
import { suiteScope } from "./suite-scope.js";
import { TcpProxy } from "./tcp-proxy.js";

describe.skipIf(!redisAvailable)("closing", () => {
  const { prefix, opened } = suiteScope();

  function given(): Redis {
    const client = new Redis(REDIS_URL);
    opened.push({ close: () => client.quit() });
    return client;
  }

  it("closes the connections it opened", async () => {
    const backplane = new RedisBackplane({ url: REDIS_URL, prefix });
    const hub = new EventHub({ backplane, history: backplane.history() });
    await hub.ready();
    expect(backplane.client.status).toBe("ready");
    expect(backplane.subscriber?.status).toBe("ready");
    await hub.close();
    expect(backplane.client.status).toBe("end");
    expect(backplane.subscriber?.status).toBe("end");
  });

  it("leaves given clients open, and unsubscribes its channel", async () => {
    const client = given();
    const subscriber = given();
    const backplane = new RedisBackplane({ client, subscriber, prefix });
    const hub = new EventHub({ backplane, history: backplane.history() });
    await hub.ready();
    expect(await client.pubsub("NUMSUB", backplane.channel)).toEqual([backplane.channel, 1]);
    await hub.close();
    expect(client.status).toBe("ready");
    expect(subscriber.status).toBe("ready");
    expect(await client.ping()).toBe("PONG");
    expect(await client.pubsub("NUMSUB", backplane.channel)).toEqual([backplane.channel, 0]);
  });

  it("closes the subscriber it duplicated from a given client, not the client", async () => {
    const client = given();
    const backplane = new RedisBackplane({ client, prefix });
    const hub = new EventHub({ backplane, history: false });
    await hub.ready();
    await hub.close();
    expect(backplane.subscriber?.status).toBe("end");
    expect(client.status).toBe("ready");
  });

  it("closes its connections while Redis is unreachable", async () => {
    const proxy = await TcpProxy.start(REDIS_URL);
    opened.push(proxy);
    const backplane = new RedisBackplane({
      url: proxy.url,
      prefix,
      redis: { retryStrategy: () => 50 },
    });
    const history = backplane.history();
    const hub = new EventHub({ backplane, history });
    hub.on("error", () => {});
    await hub.ready();
    await proxy.cut();
    await waitFor(() => !backplane.connected, "the outage to be noticed");
    await waitFor(
      () =>
        [backplane.client, backplane.subscriber, history.client].every(
          (c) => c?.status !== "ready",
        ),
      "every connection to notice the outage",
    );

    await hub.close();
    // A client waiting to reconnect is stopped, but ioredis keeps its status (redis/ioredis#1247).
    for (const client of [backplane.client, backplane.subscriber, history.client]) {
      expect(["end", "reconnecting"]).toContain(client?.status);
    }
  });

  it("serves one hub and makes one history", async () => {
    const backplane = new RedisBackplane({ url: REDIS_URL, prefix });
    const hub = new EventHub({ backplane, history: backplane.history() });
    opened.push(hub);
    expect(() => backplane.history()).toThrow(/one history per backplane/);
    expect(() => new EventHub({ backplane, history: false })).toThrow(/one backplane per hub/);
    const inUse = expect.objectContaining({ code: "SE_ERR_BACKPLANE_IN_USE" });
    expect(() => backplane.history()).toThrow(inUse);
    expect(() => new EventHub({ backplane, history: false })).toThrow(inUse);
    await hub.ready();
  });
});
