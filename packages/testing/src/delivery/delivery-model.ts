import {
  type CheckOptions,
  checkDelivery,
  type DeliveryLog,
  type Difference,
  eventData,
  type SendRecord,
  type SendTarget,
} from "./delivery-checker.js";
import { ModelClient, TestClock } from "./model-client.js";
import { Random } from "./random.js";

/**
 * The send log of a model test. The app's routes record their welcome through it; the
 * scheduler records every other send. Each record is made just before the send call.
 */
export class DeliveryRecorder {
  readonly clock = new TestClock();
  readonly sends: SendRecord[] = [];
  #shared = 0;
  #perConnection = 0;

  /** Records a shared send and returns the data to send. */
  shared(
    instance: string,
    target: Exclude<SendTarget, { kind: "connection" }>,
    padding = 0,
  ): SendRecord & { data: string } {
    return this.#record(`S${++this.#shared}`, instance, target, padding);
  }

  /** Records a send to one connection and returns the data to send. */
  perConnection(instance: string, connection: string, padding = 0): SendRecord & { data: string } {
    return this.#record(
      `C${++this.#perConnection}`,
      instance,
      { kind: "connection", connection },
      padding,
    );
  }

  /** Records the welcome of `connection` (what a route sends on every connect); returns its data. */
  welcome(instance: string, connection: string): string {
    return this.#record(`W.${connection}`, instance, { kind: "connection", connection }).data;
  }

  /** Forgets a send whose call threw (nothing was sent). */
  forget(key: string): void {
    const index = this.sends.findIndex((send) => send.key === key);
    if (index !== -1) this.sends.splice(index, 1);
  }

  #record(key: string, instance: string, target: SendTarget, padding = 0) {
    const data = eventData(key, padding);
    const send: SendRecord = { key, target, instance, seq: this.clock.tick(), bytes: data.length };
    this.sends.push(send);
    return { ...send, data };
  }
}

/** One app instance as the model drives it, through the app's public API. */
export interface ModelInstance {
  readonly name: string;
  /**
   * The events route. It takes the seid from the `x-seid` header (through `seidGenerator`),
   * the connection id from `x-connection`, the topics from `?topics=a,b` (joined with
   * `reply.sse.subscribe`, or `reply.sse.open({ topics })` with `?via=open`), and with
   * `?welcome=1` sends `recorder.welcome(...)` on the connection before the handler returns.
   */
  readonly url: string;
  /** `app.se.broadcast({ data })`, with `{ topic }` when given. */
  broadcast(data: string, topic?: string): void;
  /** `app.se.send(seid, { data })`. */
  send(seid: string, data: string): void;
  /** `reply.sse.send({ data })` on that connection; false when it is not open here. */
  sendToConnection(connection: string, data: string): boolean;
}

/** What the scheduler does, with relative weights. */
export type ModelAction =
  | "broadcast"
  | "topic"
  | "seid"
  | "connection"
  | "disconnect"
  | "reconnect"
  | "pause"
  | "resume"
  | "stall"
  | "wait";

export interface ModelProfile {
  readonly clients: readonly [min: number, max: number];
  /** Topic names; a client holds up to two of them. Empty: no topics. */
  readonly topics: readonly string[];
  /** How the route joins topics; each connection picks one at random. */
  readonly routes: readonly ("subscribe" | "open")[];
  readonly weights: Readonly<Record<ModelAction, number>>;
  /** Probability that a shared event carries 1–4 KB, and 16–32 KB, of filler. */
  readonly largeShared: number;
  readonly hugeShared: number;
  /**
   * Probability that a per-connection event carries 64–256 KB. Half of the per-connection sends
   * go to a paused reader, when there is one, with 256 KB–1 MB: its queue grows until it is cut.
   */
  readonly hugeConnection: number;
  /** Probability that a reconnect sends `Last-Event-ID` as `?lastEventId=`. */
  readonly viaQuery: number;
  /**
   * Probability that a client the scheduler cuts stays away until the final reconnect (for at
   * most a quarter of the clients).
   */
  readonly longAway: number;
  /** At most this many stalls (each takes over a second) per run. */
  readonly maxStalls: number;
  /** Probability that a connection is cut after its first 1–3 events (e.g. mid-replay). */
  readonly cutEarly: number;
  /** Whether the route sends a welcome on every connect (`welcome=1` in the URL). */
  readonly welcome: boolean;
}

export const defaultProfile: ModelProfile = {
  clients: [20, 50],
  topics: ["t0", "t1", "t2", "t3"],
  routes: ["subscribe", "open"],
  weights: {
    broadcast: 12,
    topic: 10,
    seid: 8,
    connection: 5,
    disconnect: 6,
    reconnect: 7,
    pause: 2,
    resume: 2,
    stall: 0.3,
    wait: 8,
  },
  largeShared: 0.15,
  hugeShared: 0.01,
  hugeConnection: 0.2,
  viaQuery: 0.2,
  welcome: true,
  longAway: 0.03,
  maxStalls: 1,
  cutEarly: 0.1,
};

/** A test's own action (a Redis cut), run when the scheduler picks it. */
export interface ExtraAction {
  readonly name: string;
  readonly weight: number;
  run(random: Random): Promise<void> | void;
}

export interface ModelRunOptions {
  readonly seed: number;
  readonly steps: number;
  readonly instances: readonly ModelInstance[];
  /** The instances that send. @default instances */
  readonly senders?: readonly ModelInstance[];
  readonly recorder: DeliveryRecorder;
  readonly profile?: Partial<ModelProfile>;
  readonly extraActions?: readonly ExtraAction[];
  /** Called before every step (e.g. to cut Redis at chosen steps). */
  readonly onStep?: (step: number, random: Random) => Promise<void> | void;
  /** Called every `observeEvery` steps and before the check (e.g. to read the Redis stream). */
  readonly observe?: () => Promise<void>;
  readonly observeEvery?: number;
  /** Called before the final reconnects (e.g. to restore every cut connection). */
  readonly beforeFinal?: () => Promise<void>;
  /** The global order of the shared sends. Default: the order of the send calls. */
  readonly order?: (sends: readonly SendRecord[]) => Promise<readonly string[]> | readonly string[];
  readonly check?: CheckOptions;
  /** How long every client may take to get the final fence. @default 8000 */
  readonly fenceTimeoutMs?: number;
  /** How to rerun this seed, for the failure message. */
  readonly rerun?: string;
}

export interface ModelRunResult {
  readonly seed: number;
  readonly differences: readonly Difference[];
  readonly stats: Readonly<Record<string, number>>;
  readonly log: DeliveryLog;
  /** One paragraph: seed, how to rerun, the first difference, stats. Empty when none. */
  readonly message: string;
  /** One line: the seed, how many differences, the run's counts. */
  readonly summary: string;
}

const TIMEOUT = Symbol("timeout");

async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one seeded model of the delivery contract against `instances` and checks it: clients
 * with seids and topics connect, receive broadcasts, topic, seid and per-connection sends
 * from random instances, are cut and reconnect (to another instance when there are several)
 * with the last id they saw, and stop reading for a while. At the end every client
 * reconnects once more, a fence broadcast is sent, and once every client has it (or the
 * deadline passed) the log is checked. Closes every client it opened.
 */
export async function runDeliveryModel(options: ModelRunOptions): Promise<ModelRunResult> {
  const profile: ModelProfile = { ...defaultProfile, ...options.profile };
  const random = new Random(options.seed);
  const { recorder, instances } = options;
  const clients = makeClients(random, profile, recorder.clock);
  const home = new Map<ModelClient, ModelInstance>();
  const pending = new Map<ModelClient, Promise<void>>();
  const stats: Record<string, number> = {
    clients: clients.length,
    steps: options.steps,
    serverEnded: 0,
  };
  const bump = (name: string) => {
    stats[name] = (stats[name] ?? 0) + 1;
  };
  const idle = (client: ModelClient) => !pending.has(client);
  /** Set once the final reconnects begin: no more early cuts. */
  let final = false;
  /** Clients that stay away until the final reconnect (their Last-Event-ID grows old). */
  const away = new Set<ModelClient>();

  const connect = (client: ModelClient) => {
    const previous = home.get(client);
    const others = instances.filter((instance) => instance !== previous);
    const instance =
      others.length > 0 && random.chance(0.85) ? random.pick(others) : random.pick(instances);
    const route = profile.topics.length > 0 ? random.pick(profile.routes) : "subscribe";
    const url = new URL(instance.url);
    if (client.topics.length > 0) url.searchParams.set("topics", client.topics.join(","));
    url.searchParams.set("via", route);
    url.searchParams.set("welcome", profile.welcome ? "1" : "0");
    home.set(client, instance);
    bump("connects");
    const cutAfter = !final && random.chance(profile.cutEarly) ? random.int(1, 3) : undefined;
    if (cutAfter !== undefined) bump("earlyCuts");
    const done = client
      .connect({
        instance: instance.name,
        url: url.href,
        via: random.chance(profile.viaQuery) ? "query" : "header",
        ...(cutAfter === undefined ? {} : { cutAfter }),
      })
      .finally(() => pending.delete(client));
    pending.set(client, done);
  };
  const disconnect = (client: ModelClient) => {
    bump("disconnects");
    if (random.chance(profile.longAway) && away.size < clients.length / 4) away.add(client);
    const done = client.disconnect().finally(() => pending.delete(client));
    pending.set(client, done);
  };
  const settlePending = async (what: string) => {
    if ((await withDeadline(Promise.all(pending.values()), 10_000)) === TIMEOUT) {
      throw new Error(`seed ${options.seed}: ${what}: client operations still pending after 10 s`);
    }
  };

  try {
    for (const client of clients) if (random.chance(0.7)) connect(client);
    await settlePending("initial connects");

    const actions = [...(options.extraActions ?? [])];
    const weights: Record<string, number> = { ...profile.weights };
    if (profile.topics.length === 0) weights.topic = 0;
    for (const action of actions) weights[`extra:${action.name}`] = action.weight;
    const observeEvery = options.observeEvery ?? 50;

    for (let step = 0; step < options.steps; step++) {
      await options.onStep?.(step, random);
      const action = random.weighted(weights);
      const open = clients.filter((client) => client.connected && idle(client));
      const closed = clients.filter(
        (client) => !client.connected && idle(client) && !away.has(client),
      );
      const instance = random.pick(options.senders ?? instances);
      switch (action) {
        case "broadcast": {
          const send = recorder.shared(
            instance.name,
            { kind: "all" },
            sharedPadding(random, profile),
          );
          instance.broadcast(send.data);
          bump("broadcasts");
          break;
        }
        case "topic": {
          const topic = random.pick(profile.topics);
          const send = recorder.shared(
            instance.name,
            { kind: "topic", topic },
            sharedPadding(random, profile),
          );
          instance.broadcast(send.data, topic);
          bump("topicSends");
          break;
        }
        case "seid": {
          const seid = random.pick(clients).seid;
          const send = recorder.shared(
            instance.name,
            { kind: "seid", seid },
            sharedPadding(random, profile),
          );
          instance.send(seid, send.data);
          bump("seidSends");
          break;
        }
        case "connection": {
          // Half the time, a big event for a reader that stopped reading: its queue grows.
          const paused = open.filter((candidate) => candidate.paused);
          const toPaused = paused.length > 0 && random.chance(0.5);
          const client = toPaused
            ? random.pick(paused)
            : open.length > 0
              ? random.pick(open)
              : undefined;
          const connection = client?.current;
          const holder = client && home.get(client);
          if (connection === undefined || holder === undefined) break;
          const padding = toPaused
            ? random.int(262_144, 1_048_576)
            : random.chance(profile.hugeConnection)
              ? random.int(65_536, 262_144)
              : random.int(0, 64);
          const send = recorder.perConnection(holder.name, connection.id, padding);
          if (holder.sendToConnection(connection.id, send.data)) bump("connectionSends");
          else recorder.forget(send.key);
          break;
        }
        case "disconnect":
          if (open.length > 0) disconnect(random.pick(open));
          break;
        case "reconnect":
          if (closed.length > 0) connect(random.pick(closed));
          break;
        case "pause": {
          const readers = open.filter((client) => !client.paused);
          if (readers.length > 0) {
            random.pick(readers).pause();
            bump("pauses");
          }
          break;
        }
        case "resume": {
          const paused = clients.filter((client) => client.paused);
          if (paused.length > 0) random.pick(paused).resume();
          break;
        }
        case "stall": {
          // A reader that stops reading while 6 MB are sent to it (more than the socket
          // buffers take), for longer than a second: the server should cut it as slow.
          const readers = open.filter((client) => !client.paused);
          const client = readers.length > 0 ? random.pick(readers) : undefined;
          const connection = client?.current;
          const holder = client && home.get(client);
          const stalls = stats.stalls ?? 0;
          if (stalls >= profile.maxStalls) break;
          if (client === undefined || connection === undefined || holder === undefined) break;
          client.pause();
          bump("stalls");
          for (let n = 0; n < 6; n++) {
            const send = recorder.perConnection(holder.name, connection.id, 1_048_576);
            if (!holder.sendToConnection(connection.id, send.data)) {
              recorder.forget(send.key);
              break;
            }
          }
          await sleep(1300);
          break;
        }
        case "wait":
          await sleep(random.chance(0.1) ? random.int(10, 40) : random.int(0, 3));
          break;
        default: {
          const extra = actions.find((candidate) => `extra:${candidate.name}` === action);
          if (extra) {
            bump(extra.name);
            await extra.run(random);
          }
        }
      }
      if (options.observe && step % observeEvery === observeEvery - 1) await options.observe();
    }

    // The final round: everyone reads again, reconnects once more, and waits for a fence.
    await settlePending("the last steps");
    for (const client of clients) client.resume();
    await options.beforeFinal?.();
    for (const client of clients) if (client.connected) disconnect(client);
    await settlePending("the final disconnects");
    final = true;
    for (const client of clients) connect(client);
    await settlePending("the final connects");
    const fenceFrom = random.pick(options.senders ?? instances);
    const fence = recorder.shared(fenceFrom.name, { kind: "all" });
    fenceFrom.broadcast(fence.data);
    const deadline = Date.now() + (options.fenceTimeoutMs ?? 8000);
    const retries = new Map<ModelClient, number>();
    for (let round = 0; Date.now() < deadline && round < 100_000; round++) {
      if (clients.every((client) => client.has(fence.key))) break;
      // A stream the server ended (or that failed to open) before the fence: reconnect it.
      for (const client of clients) {
        if (client.connected || !idle(client) || client.has(fence.key)) continue;
        const tries = retries.get(client) ?? 0;
        if (tries >= 5) continue;
        retries.set(client, tries + 1);
        connect(client);
      }
      await sleep(10);
    }
    await settlePending("the fence");
    stats.serverEnded = clients
      .flatMap((client) => client.record().connections)
      .filter((connection) => connection.ended === "server").length;
    stats.resets = clients.reduce(
      (sum, client) => sum + client.count(options.check?.resetType ?? "se-reset"),
      0,
    );
    stats.sharedSends = recorder.sends.filter((send) => send.target.kind !== "connection").length;
    const withoutFence = clients
      .filter((client) => !client.has(fence.key))
      .map((client) => client.name);

    await options.observe?.();
    const order = options.order
      ? await options.order(recorder.sends)
      : recorder.sends.filter((send) => send.target.kind !== "connection").map((send) => send.key);
    const log: DeliveryLog = {
      sends: recorder.sends,
      order,
      clients: clients.map((client) => client.record()),
    };
    const differences = checkDelivery(log, options.check);
    if (differences.length === 0 && withoutFence.length > 0) {
      // The checker found the log consistent, yet some clients never got the fence.
      const difference: Difference = {
        client: withoutFence[0] as string,
        message: `${withoutFence.length} client(s) never got the fence ${fence.key}: ${withoutFence.slice(0, 8).join(", ")}`,
      };
      return finish(options, differences.concat(difference), stats, log);
    }
    return finish(options, differences, stats, log);
  } finally {
    await Promise.allSettled(pending.values());
    await Promise.allSettled(clients.map((client) => client.disconnect()));
  }
}

function finish(
  options: ModelRunOptions,
  differences: readonly Difference[],
  stats: Record<string, number>,
  log: DeliveryLog,
): ModelRunResult {
  const rerun = options.rerun ?? `SE_MODEL_SEED=${options.seed} SE_MODEL_STEPS=${options.steps}`;
  const clients = new Set(differences.map((difference) => difference.client));
  const statsText = Object.entries(stats)
    .map(([name, value]) => `${name}=${value}`)
    .join(" ");
  const message =
    differences.length === 0
      ? ""
      : [
          `seed ${options.seed} (rerun: ${rerun}): ${differences.length} difference(s) on ${clients.size} client(s).`,
          `First difference: ${(differences[0] as Difference).message}`,
          ...differences.slice(1, 4).map((difference) => `Then: ${difference.message}`),
          `Run: ${statsText}`,
        ].join("\n");
  const summary = `seed ${options.seed}: ${differences.length} difference(s); ${statsText}`;
  return { seed: options.seed, differences, stats, log, message, summary };
}

function makeClients(random: Random, profile: ModelProfile, clock: TestClock): ModelClient[] {
  const count = random.int(profile.clients[0], profile.clients[1]);
  const seids = Array.from({ length: Math.max(1, Math.ceil(count / 2)) }, (_, n) => `u${n}`);
  return Array.from({ length: count }, (_, n) => {
    const topics =
      profile.topics.length > 0 ? random.sample(profile.topics, random.int(0, 2)).sort() : [];
    return new ModelClient(`c${n}`, random.pick(seids), topics, clock);
  });
}

function sharedPadding(random: Random, profile: ModelProfile): number {
  const roll = random.next();
  if (roll < profile.hugeShared) return random.int(16_384, 32_768);
  if (roll < profile.hugeShared + profile.largeShared) return random.int(1024, 4096);
  return random.int(0, 64);
}
