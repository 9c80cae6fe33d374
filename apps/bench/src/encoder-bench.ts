/**
 * Encoder cost in ns per event, in its own process: se's `formatEvent` against a bare template
 * string and the peers' serializers that can be imported. Variants run interleaved, rep by rep.
 *
 * What is timed: building the frame **and flattening it**. A template literal (and most
 * encoders) returns a V8 rope (cons string) whose text is only copied into one piece when
 * something reads it; a socket write always does, so a frame is not ready to go out before
 * that. Every variant's result is flattened the same way (reading one character of it makes V8
 * flatten it in place); a variant that already returns a flat string pays only the read. The
 * `-rope` shape keeps the earlier measure (only `.length` of the result, never flattened) as a
 * diagnostic. Each variant runs in its own copy of the timing loop, so one variant's type
 * feedback and inlining never shape another's machine code.
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

type Measure = (encode: Encode, data: string[], iterations: number) => number;

/** What each iteration does with the frame `f`; the sum is checked so nothing is dead code. */
const CONSUME = {
  flat: "const f = encode(data[i & 63]); sum += f.charCodeAt(f.length - 3);",
  rope: "sum += encode(data[i & 63]).length;",
} as const;

/**
 * A fresh timing loop. Built from source so that each variant gets its own function (with its
 * own feedback and optimized code); closures from one literal would share them.
 */
function timingLoop(consume: keyof typeof CONSUME): Measure {
  const source = `return function measure(encode, data, iterations) {
    let sum = 0;
    const start = performance.now();
    for (let i = 0; i < iterations; i++) { ${CONSUME[consume]} }
    const ns = ((performance.now() - start) * 1e6) / iterations;
    if (sum === 0) throw new Error("nothing encoded");
    return ns;
  };`;
  return new Function("performance", source)(performance) as Measure;
}

/** The shapes measured: data with or without line breaks, frame flattened or left a rope. */
export const ENCODER_SHAPES = ["single-line", "multi-line", "single-line-rope"] as const;

export function runEncoderBench(job: EncoderJob): EncoderResult {
  const encoders = variants();
  const result: EncoderResult = {};
  for (const shape of ENCODER_SHAPES) {
    const multiLine = shape === "multi-line";
    const data = inputs(multiLine);
    const samples: Record<string, number[]> = {};
    const loops: Record<string, Measure> = {};
    for (const [name, encode] of Object.entries(encoders)) {
      if (!multiLine && name === "template+split") continue;
      if (multiLine && (name === "template" || name === "template+check")) continue;
      samples[name] = [];
      loops[name] = timingLoop(shape === "single-line-rope" ? "rope" : "flat");
      loops[name](encode, data, job.iterations); // warm-up
    }
    for (let rep = 0; rep < job.reps; rep++) {
      for (const name of Object.keys(samples)) {
        const measure = loops[name] as Measure;
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
