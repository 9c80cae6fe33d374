/**
 * A load generator of the storm scenario, in its own process (several share the clients):
 * opens its clients from several loopback source addresses, cuts them (or lets the server
 * end them) on command, and reports when each recovered and whether every event arrived
 * exactly once. Driven over IPC by `storm-scenario.ts`: {@link LoaderCommand} in,
 * {@link LoaderReply} out.
 */
import { deadline } from "./deadline.js";
import { StormClient } from "./storm-client.js";

export type LoaderCommand =
  | { type: "connect"; port: number; clients: number; addresses: string[]; batch: number }
  | { type: "cut"; at: number; by: "client" | "server" }
  | { type: "recovered"; timeoutMs: number }
  | { type: "verify"; total: number; timeoutMs: number };

export interface Recovery {
  /** Per client, ms from the cut to its new stream's head (reconnect). */
  reconnectMs: number[];
  /** Per client, ms from the cut to its first event sent after it reconnected (recovered). */
  recoveredMs: number[];
  attempts: number;
  failedAttempts: number;
  /** Clients that had not recovered by the deadline. */
  missing: number;
}

export type LoaderReply =
  | { type: "connected"; ms: number }
  | { type: "cut" }
  | { type: "recovered"; recovery: Recovery }
  | { type: "verified"; problems: string[] };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let clients: StormClient[] = [];

async function connect(command: Extract<LoaderCommand, { type: "connect" }>): Promise<number> {
  const t0 = Date.now();
  for (let i = 0; i < command.clients; i += command.batch) {
    const batch: StormClient[] = [];
    for (let j = i; j < Math.min(command.clients, i + command.batch); j++) {
      const address = command.addresses[j % command.addresses.length] as string;
      batch.push(new StormClient(command.port, address));
    }
    clients.push(...batch);
    await deadline(Promise.all(batch.map((c) => c.opened())), 20_000, `opening clients ${i}..`);
  }
  return Date.now() - t0;
}

async function recovered(timeoutMs: number): Promise<Recovery> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && clients.some((c) => Number.isNaN(c.recoveredAt))) await sleep(25);
  const done = clients.filter((c) => !Number.isNaN(c.recoveredAt));
  return {
    reconnectMs: done.map((c) => c.reopenedAt - c.cutAt),
    recoveredMs: done.map((c) => c.recoveredAt - c.cutAt),
    attempts: clients.reduce((n, c) => n + c.attempts, 0),
    failedAttempts: clients.reduce((n, c) => n + c.failedAttempts, 0),
    missing: clients.length - done.length,
  };
}

async function verify(total: number, timeoutMs: number): Promise<string[]> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && clients.some((c) => c.count < total)) await sleep(25);
  await sleep(300); // anything extra (duplicates) arrives now
  for (const client of clients) client.stop();
  const problems: string[] = [];
  for (const client of clients) {
    if (client.count !== total) problems.push(`a client got ${client.count} of ${total} events`);
    if (client.errors > 0)
      problems.push(`a client saw ${client.errors} bad events: ${client.firstError}`);
    if (problems.length > 5) break;
  }
  return problems;
}

async function handle(command: LoaderCommand): Promise<LoaderReply> {
  switch (command.type) {
    case "connect":
      return { type: "connected", ms: await connect(command) };
    case "cut":
      for (const client of clients) {
        if (command.by === "client") client.cut(command.at);
        else client.markCut(command.at);
      }
      return { type: "cut" };
    case "recovered":
      return { type: "recovered", recovery: await recovered(command.timeoutMs) };
    case "verify":
      return { type: "verified", problems: await verify(command.total, command.timeoutMs) };
  }
}

process.on("disconnect", () => process.exit(0));
process.on("message", (command: LoaderCommand) => {
  handle(command).then(
    (reply) => process.send?.(reply),
    (error: unknown) => {
      for (const client of clients) client.stop();
      clients = [];
      process.send?.({ type: "error", message: (error as Error).stack ?? String(error) });
    },
  );
});
process.send?.({ type: "ready" });
