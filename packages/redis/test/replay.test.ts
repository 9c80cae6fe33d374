import { EventClient } from "@se/testing/eventsource";
import { REDIS_URL, redisAvailable } from "@se/testing/redis";
import { describe, expect, it } from "vitest";
import { type Instance, startInstance } from "./instance.js";
import { settle, withoutFences } from "./settle.js";
import { suiteScope } from "./suite-scope.js";

describe.skipIf(!redisAvailable)("replay across instances", () => {
  const { prefix, opened } = suiteScope();

  it("gives a client that reconnects to another instance what it missed, once", async () => {
    const instances: Instance[] = [];
    for (let i = 0; i < 3; i++) {
      const instance = await startInstance({ url: REDIS_URL, prefix });
      opened.push(instance);
      instances.push(instance);
    }
    const [a, b, c] = instances as [Instance, Instance, Instance];
    // A second tab of alice on B: once it has an event, that event is in the stream (each
    // instance writes the history entry before it publishes, on the same connection).
    const watcher = await EventClient.open(`${b.url}?seid=alice&topics=news`);
    opened.push(watcher);
    const first = await EventClient.open(`${a.url}?seid=alice&topics=news`);
    opened.push(first);

    for (const [i, sender] of [a, b, c, a].entries()) {
      sender.hub.send("alice", { data: `seen-${i}` });
      await first.waitForData(`seen-${i}`);
      await watcher.waitForData(`seen-${i}`);
    }
    first.close();
    const lastSeen = first.lastEventId;

    // Sent one after another (each awaited), so the stream order is the send order.
    const missed = ["missed-direct", "missed-all", "missed-news", "missed-direct-2"];
    c.hub.send("alice", { data: "missed-direct" });
    await watcher.waitForData("missed-direct");
    a.hub.broadcast({ data: "missed-all" });
    b.hub.send("bob", { data: "for-bob" });
    await watcher.waitForData("missed-all");
    b.hub.broadcast({ data: "missed-news" }, { topic: "news" });
    c.hub.broadcast({ data: "for-sports" }, { topic: "sports" });
    await watcher.waitForData("missed-news");
    a.hub.send("alice", { data: "missed-direct-2" });
    await watcher.waitForData("missed-direct-2");

    const second = await EventClient.open(`${b.url}?seid=alice&topics=news`, {
      lastEventId: lastSeen,
    });
    opened.push(second);
    c.hub.send("alice", { data: "live" });
    await second.waitForData("live");
    a.hub.send("alice", { data: "live-2" });
    await second.waitForData("live-2");
    await settle(second, "alice", [a, b, c]);

    expect(withoutFences(second.data)).toEqual([...missed, "live", "live-2"]);
    const ids = second.received.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort());
    expect(ids.every((id) => lastSeen !== undefined && id > lastSeen)).toBe(true);
    expect([...a.errors, ...b.errors, ...c.errors]).toEqual([]);
  });

  it("resumes from a per-connection event's id on another instance, without a reset (hole 3)", async () => {
    const a = await startInstance({ url: REDIS_URL, prefix });
    opened.push(a);
    const b = await startInstance({ url: REDIS_URL, prefix });
    opened.push(b);
    a.hub.broadcast({ data: "old" });
    const first = await EventClient.open(`${a.url}?seid=dave&welcome=hello`, {
      types: ["se-reset"],
    });
    opened.push(first);
    await first.waitForData("hello");
    const welcomeId = first.lastEventId as string;
    expect(welcomeId).toMatch(/^\d+-\d+~1$/);
    first.close();
    b.hub.broadcast({ data: "missed-1" });
    a.hub.send("dave", { data: "missed-2" });
    await settle(await watcher(b), "watcher", [a, b]);
    for (let i = 0; i < 3; i++) {
      const back = await EventClient.open(`${b.url}?seid=dave`, {
        lastEventId: welcomeId,
        types: ["se-reset"],
      });
      opened.push(back);
      await settle(back, "dave", [a, b]);
      expect(withoutFences(back.data)).toEqual(["missed-1", "missed-2"]);
      back.close();
    }
  });

  async function watcher(instance: Instance): Promise<EventClient> {
    const client = await EventClient.open(`${instance.url}?seid=watcher`);
    opened.push(client);
    return client;
  }

  it("tells a client with an unknown Last-Event-ID to reset", async () => {
    const a = await startInstance({ url: REDIS_URL, prefix });
    opened.push(a);
    a.hub.broadcast({ data: "something" });
    const client = await EventClient.open(`${a.url}?seid=carol`, {
      lastEventId: "0000000000000001-nobody",
      types: ["se-reset"],
    });
    opened.push(client);
    await client.waitForData(
      JSON.stringify({ reason: "history-gap", lastEventId: "0000000000000001-nobody" }),
    );
    expect(client.received.map((event) => event.type)).toEqual(["se-reset"]);
  });
});
