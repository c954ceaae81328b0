/** JSON bodies validated by zod schemas, answering with Personium's codes. */
import { PersoniumError } from "@cellport/shared";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  bodyErrorCodes,
  bodyOf,
  type JsonBody,
  jsonBody,
  parseJsonBody,
  validateJsonBody,
} from "./json-body.ts";

const strict = jsonBody({
  schema: z.object({ Name: z.string().regex(/^[a-z]+$/), Size: z.number().int().optional() }),
  fieldErrors: {
    Name: { missing: ["PR400-CM-0001", ["Name"]], invalid: ["PR400-CM-0002", ["Name", "^[a-z]+$"]] },
    Size: { invalid: ["PR400-CM-0002", ["Size", "integer"]] },
  },
  whenAbsent: "required",
  whenNotObject: "reject",
});

const lenient = jsonBody({
  schema: z.object({ Name: z.string().nullish() }),
  fieldErrors: { Name: { invalid: ["PR400-CM-0002", ["Name", "string"]] } },
  whenAbsent: "empty-object",
  whenNotObject: "empty-object",
});

function post(body?: string): Request {
  return new Request("http://localhost/", { method: "POST", ...(body !== undefined ? { body } : {}) });
}

async function errorOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PersoniumError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a PersoniumError");
}

describe("parseJsonBody", () => {
  it("returns the parsed body, without unknown keys", async () => {
    expect(await parseJsonBody(strict, post('{"Name":"abc","Size":3,"Other":1}'), 1024)).toEqual({
      Name: "abc",
      Size: 3,
    });
  });

  it.each([
    ["an empty body, when required", strict, undefined, "PR400-CM-0004", "JSON parse error. []."],
    ["a blank body, when required", strict, "  ", "PR400-CM-0004", "JSON parse error. []."],
    ["text that is not JSON", strict, "{Name:", "PR400-CM-0004", "JSON parse error. [{Name:]."],
    ["a JSON array, when objects only", strict, "[1]", "PR400-CM-0004", "JSON parse error. [[1]]."],
    ["a missing field", strict, "{}", "PR400-CM-0001", "Required key [Name] missing."],
    [
      "a null field (missing, as Personium sees it)",
      strict,
      '{"Name":null}',
      "PR400-CM-0001",
      "Required key [Name] missing.",
    ],
    [
      "a field of the wrong type",
      strict,
      '{"Name":1}',
      "PR400-CM-0002",
      "Field [Name] format error. Must be [^[a-z]+$].",
    ],
    [
      "a field off its pattern",
      strict,
      '{"Name":"A"}',
      "PR400-CM-0002",
      "Field [Name] format error. Must be [^[a-z]+$].",
    ],
    [
      "an optional field gone wrong",
      strict,
      '{"Name":"a","Size":1.5}',
      "PR400-CM-0002",
      "Field [Size] format error. Must be [integer].",
    ],
    [
      "the first bad field in declaration order",
      strict,
      '{"Size":"x","Name":2}',
      "PR400-CM-0002",
      "Field [Name] format error. Must be [^[a-z]+$].",
    ],
    [
      "a wrong type on a field without a 'missing' error",
      lenient,
      '{"Name":5}',
      "PR400-CM-0002",
      "Field [Name] format error. Must be [string].",
    ],
  ] as const)("refuses %s", async (_label, body, text, code, message) => {
    expect(await errorOf(parseJsonBody(body as JsonBody, post(text), 1024))).toEqual({ code, message });
  });

  it("reads an absent body or a non-object as {} when asked to", async () => {
    for (const text of [undefined, "", "[]", '"x"', "null", "3"]) {
      expect(await parseJsonBody(lenient, post(text), 1024), String(text)).toEqual({});
    }
    expect(await parseJsonBody(lenient, post('{"Name":null}'), 1024)).toEqual({ Name: null });
  });

  it("refuses a body over the limit with 413", async () => {
    expect((await errorOf(parseJsonBody(lenient, post(`{"Name":"${"x".repeat(100)}"}`), 50))).code).toBe(
      "PR413-DV-0001",
    );
  });
});

describe("bodyErrorCodes", () => {
  it("lists every code a body can answer, for the document", () => {
    expect(bodyErrorCodes(strict).sort()).toEqual([
      "PR400-CM-0001",
      "PR400-CM-0002",
      "PR400-CM-0004",
      "PR413-DV-0001",
    ]);
  });
});

describe("validateJsonBody and bodyOf", () => {
  it("hands the handler the body validated against the same spec, and only that one", async () => {
    const app = new Hono();
    app.post("/ok", validateJsonBody(lenient, 1024), (c) => c.json(bodyOf(c, lenient)));
    app.post("/other", validateJsonBody(lenient, 1024), (c) => c.json(bodyOf(c, strict)));
    app.onError((error) => new Response(error.message, { status: 500 }));
    expect(await (await app.request("/ok", { method: "POST", body: '{"Name":"n","x":1}' })).json()).toEqual({
      Name: "n",
    });
    const mismatch = await app.request("/other", { method: "POST", body: "{}" });
    expect(mismatch.status).toBe(500);
    expect(await mismatch.text()).toContain("does not declare this body");
  });
});
