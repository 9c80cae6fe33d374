import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { Backplane, MemoryReplayHistoryOptions, ReplayHistory } from "@se/core";
import { readSeMetrics, registerSeMetrics } from "@se/example-prometheus";
import { SE } from "@se/fastify";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from "fastify";
import { Registry } from "prom-client";
import { NicknameRegistry } from "./nickname-registry.js";
import { type JobProgress, ProgressJobs } from "./progress-jobs.js";

/** A chat message, as broadcast to every tab and kept in the recent list. */
export interface ChatMessage {
  readonly id: string;
  readonly from: string;
  readonly text: string;
  readonly at: number;
}

/** A direct message: sent to the target's seid and echoed to the sender's other tabs. */
export interface DirectMessage extends ChatMessage {
  readonly to: string;
}

/** The events this app sends; `new SE<DemoEvents>()` checks every send against it. */
export interface DemoEvents {
  chat: ChatMessage;
  dm: DirectMessage;
  progress: JobProgress;
  presence: { nick: string; online: boolean };
}

/** Options of {@link buildApp}. Every one has a default fit for `pnpm demo`. */
export interface DemoOptions {
  /** Fastify's logger. @default info level, with the stream token redacted from URLs */
  logger?: FastifyServerOptions["logger"];
  /** Reconnection delay (ms) advertised to browsers. @default 2000 */
  retry?: number;
  /** Replay history kept for reconnecting browsers. @default the core's in-memory history */
  history?: ReplayHistory | MemoryReplayHistoryOptions | false;
  /** Heartbeat interval in ms. @default 15000 */
  heartbeatMs?: number;
  /** Share events with other instances (e.g. `@se/redis`). @default in-process only */
  backplane?: Backplane;
  /** Milliseconds between two progress steps of a job. @default 200 */
  jobStepMs?: number;
  /** How long a nickname stays reserved after its owner's last tab closed. @default 30000 */
  nicknameGraceMs?: number;
  /**
   * Adds `POST /test/drop-streams`, which cuts every event stream at the socket as a network
   * failure would. For tests only: never enable it in a deployed app.
   * @default false
   */
  testRoutes?: boolean;
}

const PUBLIC_DIR = fileURLToPath(new URL("../public/", import.meta.url));
const RECENT_MESSAGES = 50;
const TEXT_BODY = {
  type: "object",
  required: ["text"],
  properties: { text: { type: "string", minLength: 1, maxLength: 500 } },
} as const;

/** An error Fastify answers with `statusCode` and `message`. */
function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}

/** Removes the secret token from a URL before it is logged. */
function redactToken(url: string): string {
  return url.replace(/([?&]token=)[^&]*/, "$1[redacted]");
}

/**
 * The demo app: one page, a chat room, direct messages, progress bars, presence and stats,
 * all over one `EventSource` per tab. Call `listen()` on the result (port 0 in tests).
 */
export async function buildApp(options: DemoOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? {
      level: "info",
      serializers: {
        req: (request: FastifyRequest) => ({
          method: request.method,
          url: redactToken(request.url),
          remoteAddress: request.ip,
        }),
      },
    },
    // Browsers keep idle keep-alive sockets open; close them on app.close() instead of waiting.
    forceCloseConnections: true,
  });

  const jobs = new ProgressJobs({ stepMs: options.jobStepMs ?? 200 });
  const recent: ChatMessage[] = [];
  const streamSockets = new Set<Socket>();
  const shared = options.backplane !== undefined;

  // `se` is created before the registry that its seidGenerator reads; both live per app.
  const nicknames = new NicknameRegistry({
    isConnected: (nick) => se.clients.has(nick),
    ...(options.nicknameGraceMs === undefined ? {} : { graceMs: options.nicknameGraceMs }),
  });
  const se: SE<DemoEvents> = new SE<DemoEvents>({
    retry: options.retry ?? 2000,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    ...(options.history === undefined ? {} : { history: options.history }),
    ...(options.backplane === undefined ? {} : { backplane: options.backplane }),
    closeEvent: { event: "shutdown", data: "the server is restarting" },
    // The seid of an event stream is the nickname the token was issued for. A seid is public
    // (shown in the user list, used as the address of direct messages), so the stream must
    // prove it owns the nickname with the secret token from POST /join. Every other GET
    // (the page, static files) gets a random seid it never uses.
    seidGenerator: (request) => {
      if (request.routeOptions.url !== "/events") return randomUUID();
      const nick = nicknames.nickOf((request.query as { token?: unknown }).token);
      if (nick === undefined) {
        throw httpError(401, "Unknown or expired token: POST /join with your nickname first.");
      }
      return nick;
    },
  });
  // The hub's metrics, as in examples/prometheus: GET /metrics for Prometheus, and the same
  // registry read back as JSON for the page's stats panel (GET /stats). Registered before the
  // plugin, which waits for the backplane to be up, so the metrics hear it come up.
  const metrics = new Registry();
  const stopMetrics = registerSeMetrics({ hub: se.hub, registry: metrics });
  await app.register(se.plugin);
  await app.register(fastifyStatic, { root: PUBLIC_DIR });

  se.hub.on("connect", (connection) => {
    const { seid } = connection;
    const tabs = se.hub.connectionsOf(seid).size;
    app.log.info({ seid, tabs, lastEventId: connection.lastEventId }, "client connected");
    nicknames.touch(seid);
    if (tabs === 1) se.broadcast({ event: "presence", data: { nick: seid, online: true } });
  });
  se.hub.on("disconnect", (connection, reason) => {
    const { seid } = connection;
    const tabs = se.hub.connectionsOf(seid).size;
    app.log.info({ seid, tabs, reason }, "client disconnected");
    nicknames.touch(seid);
    if (tabs === 0 && !se.hub.closed) {
      se.broadcast({ event: "presence", data: { nick: seid, online: false } });
    }
  });
  app.addHook("onClose", async () => {
    jobs.close();
    stopMetrics();
  });

  /** The nickname proven by the `Authorization: Bearer <token>` header. */
  const nickOf = (request: FastifyRequest): string => {
    const header = request.headers.authorization ?? "";
    const nick = nicknames.nickOf(header.startsWith("Bearer ") ? header.slice(7) : undefined);
    if (nick === undefined) {
      throw httpError(401, "Unknown or expired token: POST /join with your nickname first.");
    }
    return nick;
  };

  app.post("/join", async (request, reply: FastifyReply) => {
    const body = (request.body ?? {}) as { nick?: unknown; token?: unknown };
    const result = nicknames.join(body.nick, body.token);
    if (!result.ok) {
      const error = result.statusCode === 400 ? "Bad Request" : "Conflict";
      return reply.code(result.statusCode).send({
        statusCode: result.statusCode,
        error,
        message: result.message,
      });
    }
    return { nick: result.nick, token: result.token };
  });

  app.get("/events", (request, reply) => {
    const socket = request.raw.socket;
    streamSockets.add(socket);
    socket.once("close", () => streamSockets.delete(socket));
    reply.sse.open();
  });

  app.get("/state", async () => ({
    users: [...se.clients.keys()],
    messages: recent,
  }));

  app.get("/stats", async () => ({ ...(await readSeMetrics(metrics)), jobsRunning: jobs.running }));

  app.get("/metrics", async (_request, reply) => {
    reply.type(metrics.contentType);
    return metrics.metrics();
  });

  app.post("/messages", { schema: { body: TEXT_BODY } }, async (request) => {
    const from = nickOf(request);
    const { text } = request.body as { text: string };
    const message: ChatMessage = { id: randomUUID(), from, text, at: Date.now() };
    recent.push(message);
    if (recent.length > RECENT_MESSAGES) recent.shift();
    se.broadcast({ event: "chat", data: message });
    return { id: message.id };
  });

  app.post(
    "/dm",
    {
      schema: {
        body: {
          type: "object",
          required: ["to", "text"],
          properties: { ...TEXT_BODY.properties, to: { type: "string", minLength: 1 } },
        },
      },
    },
    async (request) => {
      const from = nickOf(request);
      const { to, text } = request.body as { to: string; text: string };
      if (to === from) throw httpError(400, "You cannot send a direct message to yourself.");
      // A target that is reconnecting still holds its nickname and gets the message by
      // replay. With a backplane the target may have joined on another instance, so only a
      // single-instance app can tell that nobody holds this nickname.
      if (!shared && !nicknames.isHeld(to)) throw httpError(404, `"${to}" is not online.`);
      const message: DirectMessage = { id: randomUUID(), from, to, text, at: Date.now() };
      se.sendEventBySeid(to, message, "dm");
      se.sendEventBySeid(from, message, "dm");
      return { id: message.id };
    },
  );

  app.post("/jobs", async (request) => {
    const nick = nickOf(request);
    const jobId = jobs.start((progress) => {
      if (!se.hub.closed) se.send(nick, { event: "progress", data: progress });
    });
    return { jobId };
  });

  if (options.testRoutes) {
    app.post("/test/drop-streams", async () => {
      const dropped = streamSockets.size;
      for (const socket of streamSockets) socket.destroy();
      return { dropped };
    });
  }

  return app;
}
