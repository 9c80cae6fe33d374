/**
 * `@se/core` on `node:http`: `openEventStream` + `hub.broadcast`, every default kept (history,
 * heartbeat, ids). `BENCH_SE_CORE_DIR` points it at another build of the core (A/B a change).
 */
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import type * as Core from "@se/core";
import type * as CoreNode from "@se/core/node";
import { parseServerArgs } from "../server-args.js";
import { type BenchServer, nodeControl } from "../server-kit.js";
import { listenNode } from "./listen.js";

async function loadCore(): Promise<[typeof Core, typeof CoreNode]> {
  const dir = process.env.BENCH_SE_CORE_DIR;
  if (!dir) return Promise.all([import("@se/core"), import("@se/core/node")]);
  const url = (file: string) => pathToFileURL(`${dir}/dist/${file}`).href;
  return Promise.all([import(url("index.js")), import(url("node/index.js"))]);
}

/** A `node:http` bench server whose streams are `hub`'s, broadcasting with `hub.broadcast`. */
export async function serveHub(
  hub: Core.EventHub,
  openEventStream: typeof CoreNode.openEventStream,
  backlog?: number,
): Promise<BenchServer> {
  const send = (data: string): void => {
    hub.broadcast({ data });
  };
  const self = { clients: () => hub.size, send, resync: () => hub.resync() };
  const server = createServer((req, res) => {
    if (nodeControl(req, res, self)) return;
    openEventStream(hub, req, res);
  });
  return { ...self, port: await listenNode(server, backlog) };
}

/** Arguments: `backlog=N` (see `server-args.ts`). */
export async function start(args: string[] = []): Promise<BenchServer> {
  const { backlog } = parseServerArgs(args);
  const [{ EventHub }, { openEventStream }] = await loadCore();
  const hub = new EventHub();
  hub.on("error", () => {});
  return serveHub(hub, openEventStream, backlog);
}
