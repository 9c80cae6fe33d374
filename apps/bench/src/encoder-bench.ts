/**
 * Encoder cost in ns per event, in its own process: se's `formatEvent` against a bare template
 * string and the peers' serializers that can be imported. Variants run interleaved, rep by rep.
 * Output strings may be V8 ropes; every variant is measured the same way (building the frame,
 * not writing it).
 */
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { formatEvent } from "@se/core";

export interface EncoderJob {
  reps: number;
  iterations: number;
}
export type EncoderResult = Record<string, Record<string, number[]>>;

type Encode = (data: string) => string;

const require = createRequire(import.meta.url);
const LINE_BREAK = /\r\n|\r|\n/g;

function variants(): Record<string, Encode> {
  const found: Record<string, Encode> = {
    template: (data) => `data: ${data}\n\n`,
    // The same template behind the check any correct encoder must make (CR/LF split the data).
    "template+check": (data) =>
      data.indexOf("\n") === -1 && data.indexOf("\r") === -1
        ? `data: ${data}\n\n`
        : `data: ${data.replace(LINE_BREAK, "\ndata: ")}\n\n`,
    "template+split": (data) => `data: ${data.replace(LINE_BREAK, "\ndata: ")}\n\n`,
    "se formatEvent": (data) => formatEvent({ data }),
  };
  try {
    const { serializeSSEEvent } = require("fastify-sse-v2/lib/sse.js") as {
      serializeSSEEvent: (event: { data: string }) => string;
    };
    found["fastify-sse-v2"] = (data) => serializeSSEEvent({ data });
  } catch {}
  try {
    const { createEventBuffer } = require("better-sse") as {
      createEventBuffer: () => {
        data(d: unknown): { dispatch(): unknown };
        read(): string;
        clear(): unknown;
      };
    };
    const buffer = createEventBuffer();
    found["better-sse"] = (data) => {
      buffer.data(data).dispatch();
      const text = buffer.read();
      buffer.clear();
      return text;
    };
  } catch {}
  // @fastify/sse keeps its formatSSEMessage private (only the plugin is exported): not measured.
  return found;
}

function inputs(multiLine: boolean): string[] {
  const list: string[] = [];
  for (let i = 0; i < 64; i++) {
    const base = `${i}:${"x".repeat(98 - String(i).length)}`;
    list.push(multiLine ? base.replace(/x{20}/g, (m) => `${m.slice(0, 19)}\n`) : base);
  }
  return list;
}

function measure(encode: Encode, data: string[], iterations: number): number {
  let bytes = 0;
  const start = performance.now();
  for (let i = 0; i < iterations; i++) bytes += encode(data[i & 63] as string).length;
  const ns = ((performance.now() - start) * 1e6) / iterations;
  if (bytes === 0) throw new Error("nothing encoded");
  return ns;
}

export function runEncoderBench(job: EncoderJob): EncoderResult {
  const encoders = variants();
  const result: EncoderResult = {};
  for (const shape of ["single-line", "multi-line"] as const) {
    const data = inputs(shape === "multi-line");
    const samples: Record<string, number[]> = {};
    for (const [name, encode] of Object.entries(encoders)) {
      if (shape === "single-line" && name === "template+split") continue;
      if (shape === "multi-line" && (name === "template" || name === "template+check")) continue;
      samples[name] = [];
      measure(encode, data, job.iterations); // warm-up
    }
    for (let rep = 0; rep < job.reps; rep++) {
      for (const name of Object.keys(samples)) {
        samples[name]?.push(measure(encoders[name] as Encode, data, job.iterations));
      }
    }
    result[shape] = samples;
  }
  return result;
}

if (process.send) {
  process.on("disconnect", () => process.exit(0));
  process.once("message", (job: EncoderJob) => {
    const result = runEncoderBench(job);
    process.send?.({ type: "result", result }, () => process.exit(0));
  });
  process.send({ type: "ready" });
}
