import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { utf8Length } from "./utf8-length.js";

describe("utf8Length", () => {
  it.each([
    ["", 0],
    ["abc", 3],
    ["é", 2],
    ["€", 3],
    ["😀", 4],
    ["\uD800", 3],
    ["\uDC00x", 4],
    ["\uD800x", 4],
  ])("%j is %d bytes", (text, bytes) => {
    expect(utf8Length(text)).toBe(bytes);
  });

  it("matches TextEncoder for any string", () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        expect(utf8Length(text)).toBe(encoder.encode(text).length);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
        const text = `${a}\uD83D${b}\uDE00`;
        expect(utf8Length(text)).toBe(encoder.encode(text).length);
      }),
    );
  });
});
