/**
 * The delivery contract (issue 12), checked against a log of what was sent and what each
 * client received:
 *
 * - Shared events (broadcast, to a seid, to a topic) addressed to a client arrive exactly
 *   once, in the one global order, from its first connection on, across every reconnect
 *   made with `Last-Event-ID`. A run of them may be missing only right after the client got
 *   the reset event. A connection opened without `Last-Event-ID` starts afresh: what was
 *   sent before it opened and before its first shared event is not owed.
 * - Nothing that was not addressed to the client arrives.
 * - Per-connection events arrive at most once, only on their connection, in the order they
 *   were sent; one that was sent before an event the connection received later must be there
 *   (the welcome of every connection that received a shared event sent after it opened).
 * - A shared event that never got a place in the global order (e.g. sent while a backplane
 *   was down) must not arrive, and every client it was addressed to must get a reset after it.
 * - With `history` limits, a reset is only allowed when the history could have overflowed.
 */

/** Who a send was addressed to. */
export type SendTarget =
  | { readonly kind: "all" }
  | { readonly kind: "topic"; readonly topic: string }
  | { readonly kind: "seid"; readonly seid: string }
  | { readonly kind: "connection"; readonly connection: string };

/** One send call, as the test made it. */
export interface SendRecord {
  /** Unique; carried in the event's data (see `eventData`). */
  readonly key: string;
  readonly target: SendTarget;
  /** The test clock when the send was called. */
  readonly seq: number;
  /** Length of the data. */
  readonly bytes: number;
  /** The instance the send was made on. */
  readonly instance: string;
}

/** One event a client's parser dispatched. */
export interface ReceivedEvent {
  /** The event type (`message` when the stream named none). */
  readonly type: string;
  /** The send key found in the data, if any. */
  readonly key: string | undefined;
  /** The id field, when the event had one. */
  readonly id: string | undefined;
  /** The test clock when it was parsed. */
  readonly seq: number;
}

/** One HTTP request of a client, and what it received. */
export interface ConnectionRecord {
  /** Unique, e.g. `c3/2` (client c3, third connection). */
  readonly id: string;
  readonly instance: string;
  /** The `Last-Event-ID` it was opened with, and how it was sent. */
  readonly lastEventId: string | undefined;
  readonly lastEventIdVia: "header" | "query" | undefined;
  /** The test clock when the request was made, and when its response headers arrived. */
  readonly requestedSeq: number;
  readonly openedSeq: number | undefined;
  readonly received: readonly ReceivedEvent[];
  /** What went wrong that the contract does not allow (an error status, a parse error). */
  readonly failures: readonly string[];
  /** Who ended it: the test (`client`) or the server; unset while open or when it never opened. */
  readonly ended?: "client" | "server" | undefined;
}

/** One client: an identity that the test reconnects, one connection at a time. */
export interface ClientRecord {
  readonly name: string;
  readonly seid: string;
  readonly topics: readonly string[];
  readonly connections: readonly ConnectionRecord[];
}

/** Everything the checker needs. */
export interface DeliveryLog {
  readonly sends: readonly SendRecord[];
  /** Keys of the shared events in the one global order. */
  readonly order: readonly string[];
  readonly clients: readonly ClientRecord[];
}

export interface CheckOptions {
  /** The reset event's type. @default "se-reset" */
  readonly resetType?: string;
  /**
   * The history's limits. When given, a reset is a difference unless the shared events sent
   * since the client's last one could have pushed it out of such a history (over 90% of
   * `maxEvents` or 80% of `maxBytes`, counting data only). Leave out where outages may reset.
   */
  readonly history?: { readonly maxEvents: number; readonly maxBytes: number };
}

/** One way the log breaks the contract. */
export interface Difference {
  readonly client: string;
  readonly connection?: string;
  readonly message: string;
}

const DATA_TAG = /^#([^#\s]+)#/;

/** The data of a test event: its key, then `padding` filler characters. */
export function eventData(key: string, padding = 0): string {
  return padding > 0 ? `#${key}# ${"x".repeat(padding)}` : `#${key}#`;
}

/** The key of a test event's data, or `undefined` for any other data. */
export function keyOfData(data: string): string | undefined {
  return DATA_TAG.exec(data)?.[1];
}

/** Whether a shared send reaches `client`. */
export function addressedTo(target: SendTarget, client: ClientRecord): boolean {
  switch (target.kind) {
    case "all":
      return true;
    case "topic":
      return client.topics.includes(target.topic);
    case "seid":
      return target.seid === client.seid;
    case "connection":
      return false;
  }
}

function describeTarget(target: SendTarget): string {
  switch (target.kind) {
    case "all":
      return "broadcast";
    case "topic":
      return `topic ${target.topic}`;
    case "seid":
      return `seid ${target.seid}`;
    case "connection":
      return `connection ${target.connection}`;
  }
}

/** Checks `log` against the contract; returns every difference, first ones first. */
export function checkDelivery(log: DeliveryLog, options: CheckOptions = {}): Difference[] {
  const resetType = options.resetType ?? "se-reset";
  const sends = new Map(log.sends.map((send) => [send.key, send]));
  const rank = new Map(log.order.map((key, index) => [key, index]));
  const shared = log.sends.filter((send) => send.target.kind !== "connection");
  const differences: Difference[] = [];
  const placed = new Set<string>();
  for (const key of log.order) {
    if (!sends.has(key)) {
      differences.push({
        client: "-",
        message: `${key} is in the global order but was never sent`,
      });
    } else if (placed.has(key)) {
      differences.push({
        client: "-",
        message: `${key} has two places in the global order (ordered twice)`,
      });
    }
    placed.add(key);
  }
  for (const client of log.clients) {
    const context: ClientContext = { client, sends, rank, shared, resetType, options };
    differences.push(
      ...checkFailures(client),
      ...checkShared(context, log.order),
      ...checkUnordered(context),
      ...checkPerConnection(client, sends, resetType),
    );
  }
  return differences;
}

interface ClientContext {
  readonly client: ClientRecord;
  readonly sends: ReadonlyMap<string, SendRecord>;
  readonly rank: ReadonlyMap<string, number>;
  readonly shared: readonly SendRecord[];
  readonly resetType: string;
  readonly options: CheckOptions;
}

function checkFailures(client: ClientRecord): Difference[] {
  return client.connections.flatMap((connection) =>
    connection.failures.map((failure) => ({
      client: client.name,
      connection: connection.id,
      message: `${connection.id} on ${connection.instance}: ${failure}`,
    })),
  );
}

function clientLabel(client: ClientRecord): string {
  const topics = client.topics.length > 0 ? client.topics.join(",") : "none";
  return `${client.name} (seid ${client.seid}, topics ${topics})`;
}

/** Walks the shared events the client received against the ones addressed to it. */
function checkShared(context: ClientContext, order: readonly string[]): Difference[] {
  const { client, sends, rank, resetType } = context;
  const expected = [...new Set(order)].filter((key) => {
    const send = sends.get(key);
    return send !== undefined && addressedTo(send.target, client);
  });
  const indexOf = new Map(expected.map((key, index) => [key, index]));
  const seen = new Set<string>();
  let next = 0;
  let resetPending = false;
  /** While set, events sent before this clock value may be skipped (a fresh start). */
  let freshBefore: number | undefined;
  let lastShared: SendRecord | undefined;
  const recent: string[] = [];
  const fail = (connection: ConnectionRecord, position: number, message: string): Difference[] => [
    {
      client: client.name,
      connection: connection.id,
      message:
        `${clientLabel(client)}, ${connection.id} on ${connection.instance}` +
        ` (Last-Event-ID ${connection.lastEventId ?? "none"}${connection.lastEventIdVia === "query" ? " via ?lastEventId" : ""})` +
        `, event #${position} of that connection: ${message}; before it the client had [${recent.slice(-6).join(" ")}]`,
    },
  ];

  for (const connection of client.connections) {
    if (connection.lastEventId === undefined && connection.openedSeq !== undefined) {
      freshBefore = Math.max(freshBefore ?? 0, connection.openedSeq);
    }
    for (const [position, event] of connection.received.entries()) {
      if (event.type === resetType) {
        const unjustified = unjustifiedReset(context, lastShared, event.seq);
        if (unjustified !== undefined) return fail(connection, position, unjustified);
        resetPending = true;
        recent.push(`reset(${event.id ?? "no id"})`);
        continue;
      }
      const send = event.key === undefined ? undefined : sends.get(event.key);
      if (send === undefined) {
        return fail(
          connection,
          position,
          `an event nobody sent (type ${event.type}, id ${event.id ?? "none"})`,
        );
      }
      if (send.target.kind === "connection") continue;
      const key = send.key;
      const at = indexOf.get(key);
      if (at === undefined) {
        const why = rank.has(key)
          ? `${key} (${describeTarget(send.target)}) was not addressed to it`
          : `${key} (${describeTarget(send.target)}) has no place in the global order`;
        return fail(connection, position, why);
      }
      if (at < next) {
        const why = seen.has(key)
          ? `${key} a second time (duplicate)`
          : `${key} after ${expected[next - 1]}, but ${key} comes first in the global order (reorder)`;
        return fail(connection, position, why);
      }
      if (at > next) {
        const skipped = expected.slice(next, at);
        const fresh =
          freshBefore !== undefined &&
          skipped.every((k) => (sends.get(k)?.seq ?? 0) < (freshBefore as number));
        if (!resetPending && !fresh) {
          const lost = skipped[0] as string;
          const lostSend = sends.get(lost) as SendRecord;
          return fail(
            connection,
            position,
            `got ${key} but ${lost} (${describeTarget(lostSend.target)}, from ${lostSend.instance})` +
              `${skipped.length > 1 ? ` and ${skipped.length - 1} more` : ""} never arrived, with no reset (loss)`,
          );
        }
        if (resetPending) recent.push(`[${skipped.length} skipped after reset]`);
      }
      next = at + 1;
      seen.add(key);
      recent.push(key);
      lastShared = send;
      resetPending = false;
      freshBefore = undefined;
    }
  }
  if (next < expected.length) {
    const missing = expected.slice(next);
    const last = client.connections.at(-1);
    return [
      {
        client: client.name,
        ...(last ? { connection: last.id } : {}),
        message:
          `${clientLabel(client)}: ${missing.length} event(s) never arrived, from ${missing[0]}` +
          ` (${describeTarget((sends.get(missing[0] as string) as SendRecord).target)}) on;` +
          ` the client had [${recent.slice(-6).join(" ")}]`,
      },
    ];
  }
  return [];
}

/** Why a reset at clock `at` was not needed, or `undefined` when it may have been. */
function unjustifiedReset(
  context: ClientContext,
  lastShared: SendRecord | undefined,
  at: number,
): string | undefined {
  const limits = context.options.history;
  if (limits === undefined || lastShared === undefined) return undefined;
  let count = 0;
  let bytes = 0;
  for (const send of context.shared) {
    if (send.seq > lastShared.seq && send.seq < at) {
      count++;
      bytes += send.bytes;
    }
  }
  if (count > limits.maxEvents * 0.9 || bytes > limits.maxBytes * 0.8) return undefined;
  return (
    `a reset, though only ${count} shared events (${bytes} bytes of data) were sent since its last one,` +
    ` ${lastShared.key}: a history of ${limits.maxEvents} events / ${limits.maxBytes} bytes still held them`
  );
}

/** Shared events that were never ordered must not arrive and must be followed by a reset. */
function checkUnordered(context: ClientContext): Difference[] {
  const { client, rank, shared, resetType } = context;
  const opened = client.connections.find(
    (connection) => connection.openedSeq !== undefined,
  )?.openedSeq;
  if (opened === undefined) return [];
  const resets = client.connections.flatMap((connection) =>
    connection.received.filter((event) => event.type === resetType).map((event) => event.seq),
  );
  for (const send of shared) {
    if (rank.has(send.key) || send.seq < opened || !addressedTo(send.target, client)) continue;
    if (!resets.some((seq) => seq > send.seq)) {
      return [
        {
          client: client.name,
          message:
            `${clientLabel(client)}: ${send.key} (${describeTarget(send.target)}, from ${send.instance})` +
            " never got a place in the global order, and the client got no reset after it (silent loss)",
        },
      ];
    }
  }
  return [];
}

/** Per-connection events: once, on their own connection, in order, none that was owed missing. */
function checkPerConnection(
  client: ClientRecord,
  sends: ReadonlyMap<string, SendRecord>,
  resetType: string,
): Difference[] {
  const differences: Difference[] = [];
  const byConnection = new Map<string, SendRecord[]>();
  for (const send of sends.values()) {
    if (send.target.kind !== "connection") continue;
    const list = byConnection.get(send.target.connection) ?? [];
    list.push(send);
    byConnection.set(send.target.connection, list);
  }
  for (const connection of client.connections) {
    const fail = (message: string) => {
      differences.push({
        client: client.name,
        connection: connection.id,
        message: `${clientLabel(client)}, ${connection.id} on ${connection.instance}: ${message}`,
      });
    };
    const got: SendRecord[] = [];
    let latestSharedSeq = -1;
    for (const event of connection.received) {
      if (event.type === resetType) continue;
      const send = event.key === undefined ? undefined : sends.get(event.key);
      if (send === undefined) continue;
      if (send.target.kind !== "connection") {
        latestSharedSeq = Math.max(latestSharedSeq, send.seq);
        continue;
      }
      if (send.target.connection !== connection.id) {
        fail(`got ${send.key}, sent to ${send.target.connection}`);
      } else if (got.includes(send)) {
        fail(`got ${send.key} twice`);
      } else if (got.length > 0 && (got.at(-1) as SendRecord).seq > send.seq) {
        fail(`got ${send.key} after ${(got.at(-1) as SendRecord).key}, which was sent later`);
      }
      got.push(send);
    }
    for (const send of byConnection.get(connection.id) ?? []) {
      if (!got.includes(send) && send.seq < latestSharedSeq) {
        fail(`${send.key} never arrived, though an event sent after it did`);
      }
    }
  }
  return differences;
}
