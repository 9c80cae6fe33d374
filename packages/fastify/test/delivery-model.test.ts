import { waitFor } from "@se/testing";
import {
  DeliveryRecorder,
  keyOfData,
  type ModelInstance,
  type ModelProfile,
  type ModelRunResult,
  parseSeeds,
  runDeliveryModel,
} from "@se/testing/delivery";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { type ReplySse, SE } from "../src/index.js";
import { listen, testApp } from "./helpers.js";

/**
 * The delivery contract of issue 12 (docs/delivery.md), as a seeded model on real sockets:
 * one Fastify app in memory with default options; 20–50 clients with seids and topics;
 * random broadcasts, topic, seid and per-connection sends; cuts and reconnects with
 * Last-Event-ID (header or query); readers that pause. The checker (@se/testing/delivery)
 * derives from the send log what each client must have received.
 *
 * SE_MODEL_SEED=<n> (or a comma-separated list) runs those seeds only, with SE_MODEL_STEPS
 * steps (default 300); SE_MODEL_VERBOSE=1 prints each run's counts. `pnpm soak` runs many.
 */

const CHOSEN =
  process.env.SE_MODEL_SEED === undefined ? undefined : parseSeeds(process.env.SE_MODEL_SEED);
const VERBOSE = process.env.SE_MODEL_VERBOSE === "1";
const STEPS = Number(process.env.SE_MODEL_STEPS ?? 300);
/** The in-memory history's defaults: a reset is only allowed where it may have overflowed. */
const HISTORY = { maxEvents: 1000, maxBytes: 1024 * 1024 };

interface App {
  readonly app: FastifyInstance;
  readonly instance: ModelInstance;
}

async function startApp(recorder: DeliveryRecorder): Promise<App> {
  const app = testApp();
  const se = new SE({
    seidGenerator: (request) => (request.headers["x-seid"] as string | undefined) ?? "anonymous",
  });
  await app.register(se.plugin);
  const streams = new Map<string, ReplySse>();
  const name = "memory";
  app.get("/events", (request, reply) => {
    const connection = String(request.headers["x-connection"]);
    const query = request.query as { topics?: string; via?: string; welcome?: string };
    const topics = query.topics ? query.topics.split(",") : [];
    if (query.via === "open") {
      reply.sse.open({ topics });
    } else {
      for (const topic of topics) reply.sse.subscribe(topic);
    }
    if (query.welcome === "1") reply.sse.send({ data: recorder.welcome(name, connection) });
    else reply.sse.open();
    streams.set(connection, reply.sse);
    reply.sse.signal.addEventListener("abort", () => streams.delete(connection));
  });
  const base = await listen(app);
  return {
    app,
    instance: {
      name,
      url: `${base}/events`,
      broadcast: (data, topic) => {
        app.se.broadcast({ data }, topic === undefined ? undefined : { topic });
      },
      send: (seid, data) => {
        app.se.send(seid, { data });
      },
      sendToConnection: (connection, data) => {
        const stream = streams.get(connection);
        if (stream === undefined || stream.closed) return false;
        stream.send({ data });
        return true;
      },
    },
  };
}

/** Fails with the seed, how to rerun it and the first difference. */
function holds(result: ModelRunResult): void {
  if (result.differences.length > 0) expect.fail(result.message);
}

describe("the delivery contract, in memory (seeded model)", () => {
  let opened: App | undefined;
  afterEach(async () => {
    await opened?.app.close();
    opened = undefined;
  });

  async function run(
    seed: number,
    steps: number,
    profile?: Partial<ModelProfile>,
    fault?: (instance: ModelInstance) => ModelInstance,
  ): Promise<ModelRunResult> {
    const recorder = new DeliveryRecorder();
    opened = await startApp(recorder);
    const result = await runDeliveryModel({
      seed,
      steps,
      recorder,
      instances: [fault ? fault(opened.instance) : opened.instance],
      check: { history: HISTORY },
      ...(profile ? { profile } : {}),
    });
    const hub = opened.app.se.hub;
    await waitFor(() => hub.size === 0, `seed ${seed}: the server to see every client leave`);
    if (VERBOSE) console.log(`memory ${result.summary}`);
    return result;
  }

  const modelTimeout = { timeout: 60_000 + STEPS * 200 };

  if (CHOSEN !== undefined) {
    for (const seed of CHOSEN) {
      it(`holds for seed ${seed} (SE_MODEL_SEED)`, modelTimeout, async () => {
        holds(await run(seed, STEPS));
      });
    }
    return;
  }

  it("the harness passes on paths that hold today: broadcasts, cuts and reconnects, pauses", async () => {
    const result = await run(20_261, 250, BROADCASTS_ONLY);
    holds(result);
    expect(result.stats.connects).toBeGreaterThan(result.stats.clients as number);
    expect(result.stats.broadcasts).toBeGreaterThan(50);
  });

  // The harness end to end: a fault injected between the scheduler and the app is caught.
  it.each([
    ["loss", (key: string) => new RegExp(`but ${key} \\(broadcast, from memory\\) never arrived`)],
    ["duplicate", (key: string) => new RegExp(`${key} a second time \\(duplicate\\)`)],
    [
      "reorder",
      (key: string) =>
        new RegExp(`got S\\d+ but ${key} \\(broadcast, from memory\\) never arrived`),
    ],
  ] as const)("the model catches an injected %s", async (fault, expected) => {
    let injected: string | undefined;
    const result = await run(7, 150, BROADCASTS_ONLY, (instance) =>
      injectFault(instance, fault, 20, (key) => {
        injected = key;
      }),
    );
    expect(injected).toBeDefined();
    const pattern = expected(injected as string);
    expect(
      result.differences.some((difference) => pattern.test(difference.message)),
      result.message,
    ).toBe(true);
  });

  // Every kind of send, the welcome per connection, topics joined in the handler.
  for (const seed of [1, 2, 3]) {
    it(`holds for seed ${seed}`, modelTimeout, async () => {
      holds(await run(seed, STEPS));
    });
  }

  // Many short connections, each with its welcome, and clients that stay away long: the
  // per-connection events must not push the broadcasts out of the history (hole 2).
  it("holds for seed 4 with many reconnects", modelTimeout, async () => {
    holds(await run(4, 8000, { clients: [30, 30], topics: ["t0"], weights: CHURN }));
  });
});

const BROADCASTS_ONLY: Partial<ModelProfile> = {
  topics: [],
  welcome: false,
  weights: {
    broadcast: 12,
    topic: 0,
    seid: 0,
    connection: 0,
    disconnect: 6,
    reconnect: 7,
    pause: 2,
    resume: 2,
    stall: 0,
    wait: 8,
  },
  hugeShared: 0,
};

const CHURN = {
  broadcast: 2,
  topic: 1,
  seid: 1,
  connection: 0,
  disconnect: 20,
  reconnect: 30,
  pause: 0,
  resume: 0,
  stall: 0,
  wait: 2,
};

/**
 * Breaks the `at`-th broadcast on its way to the app: not sent (loss), sent twice
 * (duplicate), or held back until after the next one (reorder).
 */
function injectFault(
  instance: ModelInstance,
  fault: "loss" | "duplicate" | "reorder",
  at: number,
  injected: (key: string) => void,
): ModelInstance {
  let count = 0;
  let held: string | undefined;
  return {
    ...instance,
    broadcast: (data, topic) => {
      count++;
      if (count !== at) {
        instance.broadcast(data, topic);
        if (held !== undefined) instance.broadcast(held);
        held = undefined;
        return;
      }
      injected(keyOfData(data) as string);
      if (fault === "duplicate") {
        instance.broadcast(data, topic);
        instance.broadcast(data, topic);
      }
      if (fault === "reorder") held = data;
    },
  };
}
