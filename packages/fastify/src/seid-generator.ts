import type { FastifyReply, FastifyRequest } from "fastify";
import { FST_ERR_SE_INVALID_SEID } from "./errors.js";

/** The seed's callback: `done(null, seid)` or `done(error)`. */
export type SeidCallback = (error: Error | null | undefined, seid?: string) => void;

/**
 * Makes the seid of a request: sync, async (a promise), or the seed's callback form
 * `(request, reply, done)`.
 */
export type SeidGenerator = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: SeidCallback,
) => string | Promise<string> | undefined;

const NO_CALLBACK: SeidCallback = () => {};

/** Runs a {@link SeidGenerator}, whichever form it has, and checks what it gives. */
export async function generateSeid(
  generator: SeidGenerator,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<string> {
  const seid =
    generator.length >= 3
      ? await new Promise<string | undefined>((resolve, reject) => {
          generator(request, reply, (error, value) => (error ? reject(error) : resolve(value)));
        })
      : await generator(request, reply, NO_CALLBACK);
  if (typeof seid !== "string" || seid === "") {
    throw new FST_ERR_SE_INVALID_SEID(seid === "" ? "an empty string" : typeof seid);
  }
  return seid;
}

/** Whether `generator` must be awaited: an `async` function, or the seed's callback form. */
export function isAsyncGenerator(generator: SeidGenerator): boolean {
  return generator.length >= 3 || generator.constructor.name === "AsyncFunction";
}

/**
 * Runs a sync {@link SeidGenerator} when the seid is first read.
 * @throws FST_ERR_SE_INVALID_SEID when it gives no string (a promise: declare it `async`).
 */
export function generateSeidNow(
  generator: SeidGenerator,
  request: FastifyRequest,
  reply: FastifyReply,
): string {
  if (isAsyncGenerator(generator)) {
    throw new FST_ERR_SE_INVALID_SEID(
      "nothing yet: request.seid was read before the async seidGenerator ran (it runs as the GET route's last preHandler, for routes added after the plugin loaded)",
    );
  }
  const seid = generator(request, reply, NO_CALLBACK);
  if (typeof seid === "string" && seid !== "") return seid;
  if (typeof (seid as Promise<string> | undefined)?.then === "function") {
    throw new FST_ERR_SE_INVALID_SEID(
      "a promise from a function not declared async (declare it `async` so it is awaited)",
    );
  }
  throw new FST_ERR_SE_INVALID_SEID(seid === "" ? "an empty string" : typeof seid);
}
