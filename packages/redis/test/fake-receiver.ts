import { randomUUID } from "node:crypto";
import type { BackplaneReceiver, Envelope, Target } from "@se/core";
import { comparePositions } from "@se/core";
import { waitFor } from "@se/testing";
import { REDIS_URL } from "@se/testing/redis";
import { Redis } from "ioredis";
import {
  RedisBackplane,
  type RedisBackplaneOptions,
  type RedisReplayHistory,
  type SharedHistoryOptions,
} from "../src/index.js";
import type { Closable } from "./suite-scope.js";

const ALL: Target = { kind: "all" };

/** Records what a backplane hands its hub: the hub's side of the contract, and nothing more. */
export class FakeReceiver implements BackplaneReceiver {
  readonly instanceId = randomUUID();
  readonly received: Envelope[] = [];
  readonly seeks: string[] = [];
  readonly errors: unknown[] = [];

  receive(envelope: Envelope): void {
    this.received.push(envelope);
  }

  seek(position: string): void {
    this.seeks.push(position);
  }

  reportError(error: unknown): void {
    this.errors.push(error);
  }

  /** Positions received, in order. */
  get positions(): string[] {
    return this.received.map((envelope) => envelope.position ?? "?");
  }

  /** The data of each event received (`"<gap>"` for a gap), in order. */
  get data(): string[] {
    return this.received.map(dataOf);
  }
}

/** The data line of a frame, or `"<gap>"` for a gap. */
export function dataOf(envelope: Envelope): string {
  if (envelope.gap === true) return "<gap>";
  return /^data: (.*)$/m.exec(envelope.frame)?.[1] ?? "";
}

/** A backplane with its history, started by a {@link FakeReceiver}, and a way to send as a hub does. */
export interface FakeHub extends Closable {
  readonly backplane: RedisBackplane;
  readonly history: RedisReplayHistory;
  readonly receiver: FakeReceiver;
  /** Publishes as an ordered hub does: a frame without its id line, the caller's id, autoId. */
  send(data: string, options?: { target?: Target; id?: string; autoId?: boolean }): void;
}

/** Starts a backplane on a fake receiver; resolves once `start` settled (rejected is allowed). */
export async function startFakeHub(
  options: RedisBackplaneOptions,
  historyOptions: SharedHistoryOptions = {},
): Promise<FakeHub> {
  const backplane = new RedisBackplane({ url: REDIS_URL, ...options });
  const history = backplane.history(historyOptions);
  const receiver = new FakeReceiver();
  await backplane.start(receiver).catch(() => {});
  return {
    backplane,
    history,
    receiver,
    send(data, { target = ALL, id, autoId = true } = {}) {
      const frame = `data: ${data}\n\n`;
      const origin = receiver.instanceId;
      backplane.publish(
        id === undefined
          ? { origin, target, frame, autoId }
          : { origin, target, frame, id, autoId },
      );
    },
    close: () => backplane.close(),
  };
}

/** One stream entry, as a test reads it straight from Redis. */
export interface RawEntry {
  readonly position: string;
  readonly kind: string;
  readonly origin: string;
  readonly target?: Target;
  readonly data?: string;
  readonly id?: string;
}

/** A plain connection for a test's own reads. */
export function testRedis(opened: Closable[]): Redis {
  const redis = new Redis(REDIS_URL);
  opened.push({ close: () => redis.quit() });
  return redis;
}

/** Every entry of the stream `key`, oldest first. */
export async function readStream(redis: Redis, key: string): Promise<RawEntry[]> {
  const rows = await redis.xrange(key, "-", "+");
  return rows.map(([position, fields]) => {
    const payload = JSON.parse(fields[3] ?? "{}");
    const data =
      typeof payload.f === "string" ? dataOf({ frame: payload.f } as Envelope) : undefined;
    return {
      position,
      kind: fields[1] ?? "",
      origin: payload.o,
      target: payload.t,
      data,
      id: payload.i,
    };
  });
}

/**
 * Waits until every hub has delivered the stream's newest entry (read again after each wait,
 * until no entry was added meanwhile).
 */
export async function settleHubs(
  redis: Redis,
  key: string,
  hubs: readonly FakeHub[],
  timeoutMs = 20_000,
): Promise<void> {
  let newest: string | undefined;
  const read = async () => {
    newest = (await redis.xrevrange(key, "+", "-", "COUNT", 1))[0]?.[0];
  };
  await read();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await waitFor(
      () => hubs.every((hub) => reached(hub.backplane.position, newest)),
      `every hub to deliver ${newest}`,
      Math.max(0, deadline - Date.now()),
    );
    const before = newest;
    await read();
    if (newest === before) return;
  }
}

function reached(position: string | undefined, newest: string | undefined): boolean {
  if (newest === undefined) return true;
  return position !== undefined && comparePositions(position, newest) >= 0;
}
