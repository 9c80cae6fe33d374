import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidLastEventIdError, SeError, SeOptionError } from "./errors.js";
import { checkId } from "./format-event.js";
import {
  checkLastEventId,
  checkName,
  MAX_ID_LENGTH,
  MAX_LAST_EVENT_ID_LENGTH,
  MAX_NAME_LENGTH,
} from "./limits.js";

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

const printable = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));

describe("limits", () => {
  it("are the documented numbers", () => {
    expect(MAX_ID_LENGTH).toBe(256);
    expect(MAX_NAME_LENGTH).toBe(256);
    expect(MAX_LAST_EVENT_ID_LENGTH).toBe(512);
  });
});

describe("checkName", () => {
  it.each(["seid", "topic"] as const)("returns a valid %s as it is", (field) => {
    expect(checkName(field, "a")).toBe("a");
    expect(checkName(field, " news / 漢字 😀 ")).toBe(" news / 漢字 😀 ");
    const longest = "x".repeat(MAX_NAME_LENGTH);
    expect(checkName(field, longest)).toBe(longest);
  });

  it.each<[unknown, string]>([
    ["", 'must be a non-empty string, got ""'],
    [undefined, "must be a non-empty string, got undefined"],
    [null, "must be a non-empty string, got null"],
    [7, "must be a non-empty string, got number"],
    [["a"], "must be a non-empty string, got object"],
    ["x".repeat(257), "must be at most 256 characters long, got 257"],
    ["😀".repeat(129), "must be at most 256 characters long, got 258"],
  ])("rejects %j with SeOptionError", (value, rule) => {
    for (const field of ["seid", "topic"] as const) {
      const error = catchError(() => checkName(field, value));
      expect(error).toBeInstanceOf(SeOptionError);
      expect(error).toMatchObject({
        code: "SE_ERR_INVALID_OPTION",
        option: field,
        message: `Invalid option "${field}": ${rule}`,
      });
    }
  });

  it("never echoes a long value, only its length", () => {
    const value = `secret-${"y".repeat(100_000)}`;
    const error = catchError(() => checkName("seid", value)) as SeOptionError;
    expect(error.message).toBe(
      'Invalid option "seid": must be at most 256 characters long, got 100007',
    );
    expect(error.message).not.toContain("secret");
  });
});

describe("checkLastEventId", () => {
  it("means nothing to replay for undefined, null and an empty string", () => {
    expect(checkLastEventId(undefined)).toBeUndefined();
    expect(checkLastEventId(null)).toBeUndefined();
    expect(checkLastEventId("")).toBeUndefined();
  });

  it("returns a valid value as it is, up to 512 characters", () => {
    expect(checkLastEventId("1734567890123456")).toBe("1734567890123456");
    expect(checkLastEventId("1734567890123-0~3")).toBe("1734567890123-0~3");
    expect(checkLastEventId(" a b ")).toBe(" a b ");
    const longest = "9".repeat(MAX_LAST_EVENT_ID_LENGTH);
    expect(checkLastEventId(longest)).toBe(longest);
  });

  it.each<[string, string, string]>([
    ["513 characters", "9".repeat(513), "must be at most 512 characters long, got 513"],
    ["a megabyte", "9".repeat(1 << 20), "must be at most 512 characters long, got 1048576"],
    [
      "UTF-8 read as Latin-1 (hole 11)",
      Buffer.from("u-漢字-2", "utf8").toString("latin1"),
      "must be printable ASCII (0x20-0x7E), found U+00E6 at index 2",
    ],
    [
      "Unicode from a query string",
      "u-漢字-2",
      "must be printable ASCII (0x20-0x7E), found U+6F22 at index 2",
    ],
    ["a TAB", "1\t2", "must be printable ASCII (0x20-0x7E), found TAB (U+0009) at index 1"],
    ["a DEL", "\x7f", "must be printable ASCII (0x20-0x7E), found U+007F at index 0"],
  ])("rejects %s with InvalidLastEventIdError, without the value", (_name, value, rule) => {
    const error = catchError(() => checkLastEventId(value));
    expect(error).toBeInstanceOf(InvalidLastEventIdError);
    expect(SeError.isInstance(error)).toBe(true);
    expect(InvalidLastEventIdError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      name: "InvalidLastEventIdError",
      code: "SE_ERR_INVALID_LAST_EVENT_ID",
      rule,
      message: `Invalid Last-Event-ID: ${rule}`,
    });
  });

  it("rejects a non-string at run time", () => {
    expect(() => checkLastEventId(42 as unknown as string)).toThrow(
      new InvalidLastEventIdError("must be a string, got number"),
    );
  });

  it("accepts exactly the printable ASCII values of at most 512 characters", () => {
    const value = fc.oneof(
      fc.string({ unit: "binary", maxLength: 600 }),
      fc.string({ unit: "binary-ascii", maxLength: 600 }),
      fc.string({ unit: printable, minLength: 500, maxLength: 520 }),
    );
    fc.assert(
      fc.property(value, (text) => {
        const valid = text.length <= 512 && /^[\x20-\x7e]*$/.test(text);
        if (valid) expect(checkLastEventId(text)).toBe(text === "" ? undefined : text);
        else expect(() => checkLastEventId(text)).toThrow(InvalidLastEventIdError);
      }),
      { numRuns: 500 },
    );
  });

  it("accepts every id checkId accepts", () => {
    const id = fc.oneof(fc.string({ unit: printable, maxLength: 300 }), fc.double(), fc.integer());
    fc.assert(
      fc.property(id, (value) => {
        let written: string;
        try {
          written = checkId(value);
        } catch {
          return;
        }
        expect(checkLastEventId(written)).toBe(written === "" ? undefined : written);
      }),
      { numRuns: 1000 },
    );
  });
});
