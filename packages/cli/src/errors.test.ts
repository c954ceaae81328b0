import { describe, expect, it } from "vitest";
import {
  ApiError,
  EXIT,
  errorLine,
  exitCodeForStatus,
  exitCodeOf,
  NetworkError,
  parseErrorBody,
} from "./errors.ts";

describe("exit codes", () => {
  it.each([
    [404, EXIT.notFound],
    [409, EXIT.conflict],
    [412, EXIT.conflict],
    [400, EXIT.usage],
    [401, EXIT.failure],
    [403, EXIT.failure],
    [500, EXIT.failure],
    [503, EXIT.failure],
  ])("HTTP %d → exit %d", (status, code) => expect(exitCodeForStatus(status)).toBe(code));

  it("gives unknown throwables exit 1", () => {
    expect(exitCodeOf(new Error("x"))).toBe(1);
    expect(exitCodeOf("x")).toBe(1);
  });
});

describe("error lines", () => {
  it("prints the Personium code and message, one line", () => {
    const body = parseErrorBody(
      '{"code":"PR409-CM-0002","message":{"lang":"en","value":"Because [cell export] is being executed, writing to cell can not be done."}}',
    );
    const error = new ApiError(409, body, "POST http://x/c1/__export");
    expect(errorLine(error)).toBe(
      "PR409-CM-0002 Because [cell export] is being executed, writing to cell can not be done.",
    );
    expect(error.exitCode).toBe(EXIT.conflict);
    expect(errorLine(error)).not.toMatch(/\n|at .*:\d+/);
  });

  it("falls back to the status when the body is not a Personium error", () => {
    expect(parseErrorBody("<html>")).toBeNull();
    expect(errorLine(new ApiError(502, null, "GET http://x/"))).toBe("HTTP 502 from GET http://x/");
  });

  it("names the network failure without a stack", () => {
    // As node:http reports it.
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    expect(errorLine(new NetworkError("http://127.0.0.1:1/", cause))).toBe(
      "cannot reach http://127.0.0.1:1/: ECONNREFUSED",
    );
  });
});
