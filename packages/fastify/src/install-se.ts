import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { FST_ERR_SE_ALREADY_REGISTERED, FST_ERR_SE_RECONNECT_REFUSED } from "./errors.js";
import type { EventMap } from "./event-map.js";
import { positionalMessage } from "./positional-message.js";
import { kHandled, ReplySse } from "./reply-sse.js";
import type { SE } from "./se.js";
import { generateSeid, generateSeidNow, isAsyncGenerator } from "./seid-generator.js";

const kReplySse = Symbol("se.replySse");
const kSeid = Symbol("se.seid");

/** A seidGenerator that failed: thrown where the seid is read (opening a stream), nowhere else. */
class SeidFailure {
  constructor(readonly error: unknown) {}
}

const kReply = kHandled;

type RequestWithSeid = FastifyRequest & {
  [kSeid]: string | SeidFailure | null;
  [kReply]: FastifyReply | null;
};
const installed = new WeakSet<object>();

type Handler = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * Wraps a route handler: when it returns (or its promise settles) the replay of a stream it
 * opened starts, so the topics it subscribed are replayed too; an error thrown after its event
 * stream opened is logged with `request.log` instead of reaching Fastify, which could only answer
 * it with FST_ERR_REP_ALREADY_SENT (the headers are gone).
 */
function guardHandler(handler: Handler, sseOf: (reply: FastifyReply) => ReplySse | null): Handler {
  const settled = (reply: FastifyReply): void => sseOf(reply)?.handlerDone();
  const streaming = (reply: FastifyReply): boolean => sseOf(reply)?.connection !== undefined;
  // The refusal already answered 204: stop the handler, nothing to report.
  const refused = (reply: FastifyReply, error: unknown): boolean =>
    reply.sent && error instanceof FST_ERR_SE_RECONNECT_REFUSED;
  const report = (request: FastifyRequest, reply: FastifyReply, error: unknown): undefined => {
    request.log.error({ err: error }, "se: error after the event stream opened; stream ended");
    // The client must not hold a stream nobody feeds: end it (it reconnects and replays).
    sseOf(reply)?.close();
    return undefined;
  };
  return function guarded(this: FastifyInstance, request, reply) {
    (request as RequestWithSeid)[kReply] = reply;
    let result: unknown;
    try {
      result = handler.call(this, request, reply);
    } catch (error) {
      settled(reply);
      if (refused(reply, error)) return undefined;
      if (streaming(reply)) return report(request, reply, error);
      throw error;
    }
    if (result !== null && typeof (result as Promise<unknown>)?.then === "function") {
      return (result as Promise<unknown>).then(
        (value) => {
          settled(reply);
          return value;
        },
        (error: unknown) => {
          settled(reply);
          if (refused(reply, error)) return undefined;
          if (streaming(reply)) return report(request, reply, error);
          throw error;
        },
      );
    }
    settled(reply);
    return result;
  };
}

interface LooseDecorators {
  decorate(name: string, value: unknown): void;
  decorateRequest(name: string | symbol, value: unknown): void;
  decorateReply(name: string | symbol, value: unknown): void;
}

type ReplyWithState = FastifyReply & { [kReplySse]: ReplySse | null };

/**
 * Decorates a Fastify app with the seed API and `reply.sse`, all backed by `se.hub`, and waits
 * until its backplane (if any) is connected, so the app listens only once sends are ordered.
 * @internal
 */
export async function installSE<E extends EventMap>(
  fastify: FastifyInstance,
  se: SE<E>,
): Promise<void> {
  if (installed.has(se)) throw new FST_ERR_SE_ALREADY_REGISTERED();
  installed.add(se);
  const generator = se.options.seidGenerator;

  const sseOf = (reply: FastifyReply): ReplySse => {
    const state = reply as ReplyWithState;
    let sse = state[kReplySse];
    if (sse === null) {
      sse = new ReplySse(reply, se as SE);
      state[kReplySse] = sse;
    }
    return sse;
  };

  // Decorators are typed by the module augmentation in index.ts, which depends on the user's
  // Register; the values set here are the untyped implementations behind those types.
  const app = fastify as unknown as LooseDecorators;
  app.decorate("se", se);
  app.decorateRequest(kSeid, null);
  app.decorateRequest(kReply, null);
  app.decorateRequest("seid", {
    getter(this: RequestWithSeid) {
      const value = this[kSeid];
      if (value instanceof SeidFailure) throw value.error;
      if (value !== null || this.method !== "GET") return value;
      // Made only when something reads it (a stream opens): random, or by a sync generator.
      const seid =
        generator === undefined
          ? randomUUID()
          : generateSeidNow(generator, this, this[kReply] as FastifyReply);
      this[kSeid] = seid;
      return seid;
    },
    setter(this: RequestWithSeid, value: string | null) {
      this[kSeid] = value;
    },
  });
  app.decorateReply(kReplySse, null);
  app.decorateReply("sse", {
    getter(this: FastifyReply) {
      return sseOf(this);
    },
  });
  app.decorateReply(
    "sendEvent",
    function (this: FastifyReply, data: unknown, event?: unknown, id?: unknown, retry?: unknown) {
      sseOf(this).send(positionalMessage(data, event, id, retry) as never);
    },
  );
  app.decorateReply("sendEventBySeid", function (this: FastifyReply, ...args: unknown[]) {
    return (se.sendEventBySeid as (...a: unknown[]) => boolean)(...args);
  });
  app.decorateReply("endEvent", function (this: FastifyReply) {
    sseOf(this).close();
  });

  // An async (or callback) seidGenerator cannot run when the seid is read, so it runs for GET
  // requests as the route's last preHandler: after the route's own hooks (its auth); its failure
  // only fails what reads the seid. A sync one runs when the seid is read.
  const computeSeid = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (generator === undefined || request.method !== "GET") return;
    const state = request as RequestWithSeid;
    try {
      state[kSeid] = await generateSeid(generator, request, reply);
    } catch (error) {
      state[kSeid] = new SeidFailure(error);
    }
  };
  fastify.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (generator !== undefined && isAsyncGenerator(generator) && methods.includes("GET")) {
      const own = route.preHandler;
      route.preHandler = [
        ...(own === undefined ? [] : Array.isArray(own) ? own : [own]),
        computeSeid,
      ];
    }
    route.handler = guardHandler(
      route.handler as Handler,
      (reply) => (reply as ReplyWithState)[kReplySse],
    );
  });
  fastify.addHook("preClose", async () => {
    await se.close();
  });

  // Without a Fastify logger (the default), errors (e.g. a Redis outage) go to the console.
  const level = fastify.log.level;
  const logs = level !== undefined && level !== "silent";
  se.hub.on("error", (error) => {
    if (logs) fastify.log.error({ err: error }, "se: event stream error");
    else console.error("[se]", error);
  });
  se.hub.on("disconnect", (connection, reason) =>
    fastify.log.debug({ seid: connection.seid, reason }, "se: event stream closed"),
  );
  await se.hub.ready();
}
