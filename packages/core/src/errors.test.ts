import { describe, expect, it } from "vitest";
import {
  ConnectionClosedError,
  InvalidLastEventIdError,
  SeError,
  type SeErrorCode,
  SeOptionError,
  SseFormatError,
} from "./errors.js";

describe("errors", () => {
  it("isInstance recognises the family", () => {
    const format = new SseFormatError("id", "must not contain CR or LF");
    const option = new SeOptionError("seid", "must be a non-empty string");
    const closed = new ConnectionClosedError();
    const lastEventId = new InvalidLastEventIdError("must be at most 512 characters long, got 600");
    for (const error of [format, option, closed, lastEventId]) {
      expect(SeError.isInstance(error)).toBe(true);
      expect(error).toBeInstanceOf(Error);
    }
    expect(SseFormatError.isInstance(format)).toBe(true);
    expect(SseFormatError.isInstance(option)).toBe(false);
    expect(SseFormatError.isInstance(closed)).toBe(false);
    expect(SseFormatError.isInstance(lastEventId)).toBe(false);
    expect(InvalidLastEventIdError.isInstance(lastEventId)).toBe(true);
    expect(InvalidLastEventIdError.isInstance(format)).toBe(false);
    for (const other of [
      new Error("x"),
      null,
      undefined,
      "SeError",
      { code: "SE_ERR_INVALID_FIELD" },
    ]) {
      expect(SeError.isInstance(other)).toBe(false);
      expect(SseFormatError.isInstance(other)).toBe(false);
      expect(InvalidLastEventIdError.isInstance(other)).toBe(false);
    }
  });

  it("isInstance accepts an error made by another copy of the package", () => {
    const foreign = Object.assign(new Error('Invalid SSE field "id": x'), {
      name: "SseFormatError",
      code: "SE_ERR_INVALID_FIELD",
      [Symbol.for("se.error")]: true,
    });
    expect(foreign instanceof SeError).toBe(false);
    expect(SeError.isInstance(foreign)).toBe(true);
    expect(SseFormatError.isInstance(foreign)).toBe(true);
  });

  it("carries code, field, rule, cause and a message naming the field", () => {
    const cause = new TypeError("boom");
    const error = new SseFormatError("data", "cannot be serialized", {
      cause,
      code: "SE_ERR_UNSERIALIZABLE_DATA",
    });
    expect(error).toMatchObject({
      name: "SseFormatError",
      code: "SE_ERR_UNSERIALIZABLE_DATA",
      field: "data",
      rule: "cannot be serialized",
      message: 'Invalid SSE field "data": cannot be serialized',
      cause,
    });
    expect(new SeOptionError("topic", "must be a string")).toMatchObject({
      code: "SE_ERR_INVALID_OPTION",
      option: "topic",
      message: 'Invalid option "topic": must be a string',
    });
    expect(new ConnectionClosedError().code).toBe("SE_ERR_CONNECTION_CLOSED");
    expect(new InvalidLastEventIdError("must be printable ASCII (0x20-0x7E)")).toMatchObject({
      name: "InvalidLastEventIdError",
      code: "SE_ERR_INVALID_LAST_EVENT_ID",
      rule: "must be printable ASCII (0x20-0x7E)",
      message: "Invalid Last-Event-ID: must be printable ASCII (0x20-0x7E)",
    });
  });

  it("has the codes other se packages throw with (e.g. @se/redis)", () => {
    const codes: SeErrorCode[] = ["SE_ERR_REDIS_UNAVAILABLE", "SE_ERR_BACKPLANE_IN_USE"];
    for (const code of codes) {
      const error = new SeError(code, "x");
      expect(error.code).toBe(code);
      expect(SeError.isInstance(error)).toBe(true);
    }
  });
});
