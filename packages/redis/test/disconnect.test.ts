import diagnostics from "node:diagnostics_channel";
import type { CloseReason } from "@se/core";
import { EventClient, REDIS_URL, redisAvailable, waitFor } from "@se/test-support";
import { describe, expect, it } from "vitest";
import { type Instance, startInstance } from "./instance.js";
import { suiteScope } from "./suite-scope.js";
import { TcpProxy } from "./tcp-proxy.js";

/** Counts the reasons streams of `instance` ended for. */
function endings(instance: Instance): CloseReason[] {
  const reasons: CloseReason[] = [];
  instance.hub.on("disconnect", (_connection, reason) => reasons.push(reason));
  return reasons;
}

describe.skipIf(!redisAvailable)("hub.disconnect across instances on Redis", () => {
  const { prefix, opened } = suiteScope("disconnect");

  it("ends a seid's streams on every instance, after what was sent before and a last event; its reconnects get 204 everywhere", async () => {
    const one = await startInstance({ url: REDIS_URL, prefix }, { retry: 100 });
    opened.push(one);
    const two = await startInstance({ url: REDIS_URL, prefix }, { retry: 100 });
    opened.push(two);
    const endedOne = endings(one);
    const endedTwo = endings(two);
    const alice = [
      await EventClient.open(`${one.url}?seid=alice`, { types: ["logout"] }),
      await EventClient.open(`${one.url}?seid=alice`, { types: ["logout"] }),
      await EventClient.open(`${two.url}?seid=alice`, { types: ["logout"] }),
    ];
    opened.push(...alice);
    const bob = await EventClient.open(`${two.url}?seid=bob`);
    opened.push(bob);

    two.fastify.se.send("alice", { data: "before" });
    const result = one.fastify.se.disconnect("alice", {
      event: { event: "logout", data: "bye" },
      refuseReconnectMs: 60_000,
    });
    expect(result).toEqual({ local: 0, published: true }); // ordered: it ends in order, shortly
    await waitFor(
      () => one.hub.connectionsOf("alice").size === 0 && two.hub.connectionsOf("alice").size === 0,
      "alice's streams ended on both instances",
    );
    for (const client of alice) {
      await client.waitForData("bye");
      expect(client.received.map((event) => [event.type, event.data])).toEqual([
        ["message", "before"],
        ["logout", "bye"],
      ]);
    }
    expect(endedOne).toEqual(["disconnected", "disconnected"]);
    expect(endedTwo).toEqual(["disconnected"]);
    // The EventSources reconnect after retry and are refused with 204, on either instance,
    // even one that held none of alice's streams when the request came.
    for (const instance of [one, two]) {
      const again = await fetch(`${instance.url}?seid=alice`);
      expect(again.status).toBe(204);
    }
    await waitFor(() => one.hub.stats().refused + two.hub.stats().refused >= 5, "refusals");
    expect(one.hub.connectionsOf("alice").size + two.hub.connectionsOf("alice").size).toBe(0);

    // Bob is untouched, on the instance that ended alice's stream too.
    one.fastify.se.broadcast({ data: "after" });
    await bob.waitForData("after");
    expect(bob.data).toEqual(["after"]);
  });

  it("is never replayed: a client that resumes from before a disconnect gets the events, not the end", async () => {
    const one = await startInstance({ url: REDIS_URL, prefix });
    opened.push(one);
    const two = await startInstance({ url: REDIS_URL, prefix });
    opened.push(two);
    const first = await EventClient.open(`${one.url}?seid=carol`);
    opened.push(first);
    one.fastify.se.send("carol", { data: "seen" });
    await first.waitForData("seen");
    const lastEventId = first.lastEventId;
    first.close();
    await waitFor(() => one.hub.connectionsOf("carol").size === 0, "carol gone");
    two.fastify.se.disconnect("carol"); // nothing open to end; no refusal asked
    two.fastify.se.send("carol", { data: "after the disconnect" });
    const back = await EventClient.open(`${two.url}?seid=carol`, { lastEventId });
    opened.push(back);
    await back.waitForData("after the disconnect");
    one.fastify.se.send("carol", { data: "live" });
    await back.waitForData("live");
    expect(back.data).toEqual(["after the disconnect", "live"]);
    expect(two.hub.connectionsOf("carol").size).toBe(1);
  });

  it("publishes se:backplane up and down as Redis goes away and comes back", async () => {
    const proxy = await TcpProxy.start(REDIS_URL);
    opened.push({ close: () => proxy.close() });
    const messages: { hub: unknown; state: string; error?: unknown }[] = [];
    const onMessage = (message: unknown) => {
      messages.push(message as (typeof messages)[number]);
    };
    diagnostics.subscribe("se:backplane", onMessage);
    opened.push({ close: () => diagnostics.unsubscribe("se:backplane", onMessage) });
    const instance = await startInstance(
      { url: `redis://127.0.0.1:${proxy.port}`, prefix },
      { heartbeatMs: false },
    );
    opened.push(instance);
    const states = () => messages.filter((message) => message.hub === instance.hub);
    await proxy.cut();
    await waitFor(() => states().some((s) => s.state === "down"), "down", 10_000);
    await proxy.restore();
    await waitFor(() => states().at(-1)?.state === "up" && states().length > 2, "up again", 15_000);
    expect(states().map((s) => s.state)).toEqual(["up", "down", "up"]);
    expect(states()[1]?.error).toMatchObject({ code: "SE_ERR_REDIS_UNAVAILABLE" });
  });
});
