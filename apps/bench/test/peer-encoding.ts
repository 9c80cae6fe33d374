/**
 * How each library puts one event on the wire, for the encoding comparison in the root README.
 * Each `Encoder` turns a message into the exact text a client receives, through the library's
 * own code: se's `formatEvent`, fastify-sse-v2's `serializeSSEEvent`, better-sse's
 * `EventBuffer`, and a real Fastify server with @fastify/sse (its formatter is not exported).
 */
import { createRequire } from "node:module";
import { formatEvent } from "@se/core";
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from "fastify";

/** One event as the caller means it. */
export interface Message {
  event?: string;
  id?: string;
  data: string;
}

export interface Encoder {
  name: string;
  /** The wire text for `message`; throws when the library refuses it. */
  encode(message: Message): Promise<string>;
  /** Turns received `data` back into the caller's string (JSON-decoding libraries decode). */
  decodeData(data: string): string;
}

const require = createRequire(import.meta.url);
const identity = (data: string): string => data;

const se: Encoder = {
  name: "se",
  encode: async (message) => formatEvent(message),
  decodeData: identity,
};

const { serializeSSEEvent } = require("fastify-sse-v2/lib/sse.js") as {
  serializeSSEEvent: (message: Message) => string;
};
const fastifySseV2: Encoder = {
  name: "fastify-sse-v2",
  encode: async (message) => serializeSSEEvent(message),
  decodeData: identity,
};

interface EventBuffer {
  event(type: string): EventBuffer;
  id(id: string): EventBuffer;
  data(data: unknown): EventBuffer;
  dispatch(): EventBuffer;
  read(): string;
}
const { createEventBuffer } = require("better-sse") as { createEventBuffer: () => EventBuffer };
const betterSse: Encoder = {
  name: "better-sse",
  // The order `push()` uses: event, id, data; data goes through its default JSON serializer.
  encode: async (message) => {
    const buffer = createEventBuffer();
    if (message.event !== undefined) buffer.event(message.event);
    if (message.id !== undefined) buffer.id(message.id);
    return buffer.data(message.data).dispatch().read();
  },
  decodeData: (data) => JSON.parse(data) as string,
};

interface FastifySseReply {
  sse: { send(message: Message): Promise<void> };
}

/** A real Fastify server with @fastify/sse: each request sends the message in its query. */
export async function startFastifySse(): Promise<{ encoder: Encoder; close(): Promise<void> }> {
  const app: FastifyInstance = Fastify();
  await app.register(require("@fastify/sse") as FastifyPluginAsync);
  app.get("/one", { sse: true } as never, async (request, reply) => {
    const message = JSON.parse((request.query as { m: string }).m) as Message;
    await (reply as unknown as FastifySseReply).sse.send(message);
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as { port: number };
  const encoder: Encoder = {
    name: "@fastify/sse",
    encode: async (message) => {
      const query = encodeURIComponent(JSON.stringify(message));
      const response = await fetch(`http://127.0.0.1:${port}/one?m=${query}`, {
        headers: { accept: "text/event-stream" },
        signal: AbortSignal.timeout(5000),
      });
      return response.text();
    },
    decodeData: (data) => JSON.parse(data) as string,
  };
  return { encoder, close: () => app.close() };
}

export const libraryEncoders: readonly Encoder[] = [se, fastifySseV2, betterSse];
