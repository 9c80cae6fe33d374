import diagnosticsChannel from "node:diagnostics_channel";
import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import type { Backplane, BackplaneReceiver } from "@se/core";
import type { SEOptions } from "@se/fastify";
import { waitFor } from "@se/testing";
import { EventClient } from "@se/testing/eventsource";
import { afterEach, describe, expect, it } from "vitest";
import { readSeMetrics } from "../src/se-metrics-snapshot.js";
import { buildApp, type MetricsApp } from "../src/server.js";
import { parseExposition, samplesByKey } from "./exposition.js";

const running: MetricsApp[] = [];
const clients: EventClient[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const { app } of running.splice(0)) await app.close();
});

/** Streams wait a minute before reconnecting, so a stream the server ends stays ended. */
async function start(options: SEOptions = {}): Promise<MetricsApp & { base: string }> {
  const started = await buildApp({ heartbeatMs: false, retry: 60_000, ...options });
  running.push(started);
  await started.app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = started.app.server.address() as AddressInfo;
  return { ...started, base: `http://127.0.0.1:${port}` };
}

async function open(url: string, options?: { lastEventId?: string; types?: string[] }) {
  const client = await EventClient.open(url, options);
  clients.push(client);
  return client;
}

/** GET /metrics, parsed: every `se_*` sample as `name{labels}` → value. */
async function scrape(base: string): Promise<Record<string, number>> {
  const response = await fetch(`${base}/metrics`);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return samplesByKey(parseExposition(await response.text()), "se_");
}

function broadcast(base: string, body: unknown, topic?: string): Promise<Response> {
  const query = topic === undefined ? "" : `?topic=${topic}`;
  return fetch(`${base}/broadcast${query}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Every sample a fresh hub reports, so each test states only what changed. */
const ZERO = {
  se_backplane_errors_total: 0,
  se_bytes_queued: 0,
  se_clients: 0,
  se_connections_open: 0,
  se_connections_opened_total: 0,
  se_errors_total: 0,
  se_events_dropped_total: 0,
  se_events_replayed_total: 0,
  se_events_sent_total: 0,
  se_replays_total: 0,
  se_topics: 0,
};

describe("Prometheus metrics of a Fastify app", () => {
  it("counts opened, closed by reason, refused, sent, replayed and reset streams", async () => {
    const { app, base, registry } = await start({ maxConnectionsPerSeid: 2 });
    expect(await scrape(base)).toEqual(ZERO);

    const alice1 = await open(`${base}/events?seid=alice`);
    const alice2 = await open(`${base}/events?seid=alice`);
    const bob = await open(`${base}/events?seid=bob&topic=news`);
    const third = await fetch(`${base}/events?seid=alice`);
    expect(third.status).toBe(429);
    await third.body?.cancel();

    const two = JSON.stringify({ text: "two" });
    for (const text of ["one", "two"]) {
      expect((await broadcast(base, { text })).status).toBe(200);
    }
    for (const client of [alice1, alice2, bob]) await client.waitForData(two);
    const firstId = bob.received[0]?.id as string;

    bob.close(); // the client leaves: client-gone
    await waitFor(() => app.se.stats().connections === 2, "bob's stream to end");
    const [, second] = app.se.hub.connectionsOf("alice");
    second?.close(); // the server ends it: ended
    await waitFor(() => app.se.stats().connections === 1, "the ended stream");

    // bob comes back after "one": "two" is replayed.
    const back = await open(`${base}/events?seid=bob`, { lastEventId: firstId });
    await back.waitForData(two);
    // carol's id is not in the history: she is told to reset.
    const carol = await open(`${base}/events?seid=carol`, {
      lastEventId: "42",
      types: ["se-reset"],
    });
    await waitFor(() => carol.received.some((event) => event.type === "se-reset"), "the reset");

    expect(await scrape(base)).toEqual({
      ...ZERO,
      se_clients: 3, // alice, bob, carol
      se_connections_open: 3,
      se_connections_opened_total: 5,
      'se_connections_closed_total{reason="client-gone"}': 1,
      'se_connections_closed_total{reason="ended"}': 1,
      'se_connections_refused_total{limit="seid"}': 1,
      se_events_sent_total: 7, // 2 broadcasts × 3 streams, and carol's reset event
      se_events_replayed_total: 1,
      se_replays_total: 1,
      'se_resets_total{reason="history-gap"}': 1,
    });
    // The JSON snapshot (the demo's stats panel) reads the same registry.
    expect(await readSeMetrics(registry)).toEqual({
      connectionsOpen: 3,
      clients: 3,
      topics: 0,
      connectionsOpened: 5,
      connectionsClosed: { "client-gone": 1, ended: 1 },
      connectionsRefused: { seid: 1 },
      eventsSent: 7,
      bytesQueued: 0,
      eventsDropped: 0,
      eventsReplayed: 1,
      replays: 1,
      resets: { "history-gap": 1 },
      slowClients: {},
      errors: 0,
      backplaneErrors: 0,
      backplaneUp: null,
    });
  });

  it("counts a slow client, cut by the disconnect policy", async () => {
    const { app, base } = await start({ maxQueueBytes: 1024, slowClientPolicy: "disconnect" });
    // A client that sends its request and never reads: the socket's buffers fill up.
    const { port } = new URL(base);
    const socket = connect(Number(port), "127.0.0.1");
    sockets.push(socket);
    socket.write("GET /events?topic=firehose HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await waitFor(() => app.se.stats().connections === 1, "the slow stream to open");

    const big = "x".repeat(100_000);
    let delivered = 0;
    for (let round = 0; round < 2000 && app.se.stats().connections === 1; round++) {
      delivered += app.se.broadcast({ data: big }, { topic: "firehose" }).local;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => app.se.stats().connections === 0, "the slow client to be cut");

    const { eventsDropped } = app.se.stats();
    expect(await scrape(base)).toEqual({
      ...ZERO,
      se_connections_opened_total: 1,
      'se_connections_closed_total{reason="slow-client"}': 1,
      'se_slow_clients_total{policy="disconnect"}': 1,
      se_events_sent_total: delivered,
      // What was still queued when it was cut: the hub's own count, 0 or more.
      se_events_dropped_total: eventsDropped,
    });
  });

  it("reports the backplane up and down, and counts each loss", async () => {
    let receiver: BackplaneReceiver | undefined;
    // The hub's backplane hook: a backplane reports its state through receiver.state().
    const backplane: Backplane = {
      start: (r) => {
        receiver = r;
      },
      publish: () => {},
      close: () => {},
    };
    const { base } = await start({ backplane });
    const before = await scrape(base);
    expect(before.se_backplane_up).toBeUndefined();

    receiver?.state?.("up");
    expect((await scrape(base)).se_backplane_up).toBe(1);
    receiver?.state?.("down", new Error("connection lost"));
    expect(await scrape(base)).toMatchObject({ se_backplane_up: 0, se_backplane_errors_total: 1 });
    receiver?.state?.("up");
    receiver?.state?.("down", new Error("connection lost again"));
    receiver?.state?.("up");
    expect(await scrape(base)).toEqual({
      ...ZERO,
      se_backplane_up: 1,
      se_backplane_errors_total: 2,
    });
  });

  it("keeps two hubs in one process apart", async () => {
    const one = await start({ maxConnections: 1 });
    const two = await start();
    await open(`${one.base}/events`);
    const refused = await fetch(`${one.base}/events`);
    expect(refused.status).toBe(503);
    await refused.body?.cancel();
    const twoA = await open(`${two.base}/events`);
    await open(`${two.base}/events`);
    twoA.close();
    await waitFor(() => two.app.se.stats().connections === 1, "the stream to end");

    expect(await scrape(one.base)).toEqual({
      ...ZERO,
      se_clients: 1,
      se_connections_open: 1,
      se_connections_opened_total: 1,
      'se_connections_refused_total{limit="instance"}': 1,
    });
    expect(await scrape(two.base)).toEqual({
      ...ZERO,
      se_clients: 1,
      se_connections_open: 1,
      se_connections_opened_total: 2,
      'se_connections_closed_total{reason="client-gone"}': 1,
    });
  });

  it("unsubscribes and removes its metrics when the app closes", async () => {
    const { app, registry } = await start();
    expect(diagnosticsChannel.channel("se:connect").hasSubscribers).toBe(true);
    await app.close();
    running.length = 0;
    expect(diagnosticsChannel.channel("se:connect").hasSubscribers).toBe(false);
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });
});
