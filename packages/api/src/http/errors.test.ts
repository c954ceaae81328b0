import { QueueUnavailableError } from "@cellport/queue";
import { PersoniumError } from "@cellport/shared";
import {
  AlreadyExistsError,
  CellExistsError,
  CellNotFoundError,
  ConflictError,
  InvalidNameError,
  InvalidPathError,
  NotFoundError,
  PreconditionFailedError,
  RangeNotSatisfiableError,
  TooLargeError,
} from "@cellport/store";
import { describe, expect, it } from "vitest";
import { toPersoniumError } from "./errors.ts";

const context = { method: "GET", resourceUrl: "http://h/c1/__/docs/a.txt", path: "/c1/__/docs/a.txt" };

function mapped(error: unknown, method = "GET") {
  const result = toPersoniumError(error, { ...context, method });
  return (
    result && { status: result.status, code: result.code, message: result.message, headers: result.headers }
  );
}

describe("toPersoniumError", () => {
  it("passes PersoniumError through", () => {
    const error = new PersoniumError("PR409-CM-0002", ["cell export"]);
    expect(toPersoniumError(error, context)).toBe(error);
  });

  it("maps every store error to its documented code", () => {
    expect(mapped(new InvalidPathError("x"))).toMatchObject({ status: 400, code: "PR400-DV-9001" });
    expect(mapped(new InvalidNameError("x"))).toMatchObject({ status: 400, code: "PR400-DV-9001" });
    expect(mapped(new NotFoundError("x"))).toMatchObject({
      status: 404,
      message: "Resource not found. [http://h/c1/__/docs/a.txt].",
    });
    expect(mapped(new CellNotFoundError("x"))).toMatchObject({ status: 404, code: "PR404-DV-0003" });
    expect(mapped(new CellExistsError("x"))).toMatchObject({ status: 409, code: "PR409-OD-0003" });
    expect(mapped(new PreconditionFailedError("x"))).toMatchObject({ status: 412, code: "PR412-DV-0001" });
    expect(mapped(new TooLargeError("x"))).toMatchObject({ status: 413, code: "PR413-DV-0001" });
    expect(mapped(new RangeNotSatisfiableError("x", 10))).toMatchObject({
      status: 416,
      headers: { "Content-Range": "bytes */10" },
    });
    expect(mapped(new AlreadyExistsError("x"))).toMatchObject({ status: 405, code: "PR405-DV-0001" });
    expect(mapped(new ConflictError("x"), "MKCOL")).toMatchObject({
      status: 409,
      message: "intermediate collection [http://h/c1/__/docs/] should be created first.",
    });
    expect(mapped(new ConflictError("x"), "DELETE")).toMatchObject({ status: 403, code: "PR403-DV-0003" });
    expect(mapped(new QueueUnavailableError())).toMatchObject({ status: 503, code: "PR503-SV-0001" });
  });

  it("leaves anything else to the 500 path", () => {
    expect(toPersoniumError(new Error("boom"), context)).toBeNull();
    expect(toPersoniumError("a string", context)).toBeNull();
  });
});
