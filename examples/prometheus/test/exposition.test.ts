import { describe, expect, it } from "vitest";
import { parseExposition, samplesByKey } from "./exposition.js";

describe("parseExposition (the tests' reader of /metrics)", () => {
  it("reads names, escaped label values and values, and skips comments", () => {
    const text = [
      "# HELP a_total Things.",
      "# TYPE a_total counter",
      'a_total{reason="client-gone",note="say \\"hi\\"\\\\n\\n"} 3',
      "b 0.5 1700000000000",
      "c NaN",
      "",
    ].join("\n");
    expect(parseExposition(text)).toEqual([
      { name: "a_total", labels: { reason: "client-gone", note: 'say "hi"\\n\n' }, value: 3 },
      { name: "b", labels: {}, value: 0.5 },
      { name: "c", labels: {}, value: Number.NaN },
    ]);
    expect(samplesByKey(parseExposition(text), "a_")).toEqual({
      'a_total{note="say "hi"\\n\n",reason="client-gone"}': 3,
    });
  });

  it("rejects a line that is not a sample", () => {
    expect(() => parseExposition("not a sample")).toThrow(/Not a sample line/);
  });
});
