import { describe, expect, it } from "vitest";
import { errorBody, PersoniumError, statusOf } from "./errors.ts";

describe("errors", () => {
  it("fills placeholders and keeps the exact texts", () => {
    expect(errorBody("PR409-CM-0002", ["cell export"])).toEqual({
      code: "PR409-CM-0002",
      message: {
        lang: "en",
        value: "Because [cell export] is being executed, writing to cell can not be done.",
      },
    });
    expect(errorBody("PR400-CM-0002", ["Name", "^[a-zA-Z0-9-_]{1,192}$"]).message.value).toBe(
      "Field [Name] format error. Must be [^[a-zA-Z0-9-_]{1,192}$].",
    );
  });

  it("takes the HTTP status from the code", () => {
    expect(statusOf("PR412-DV-0001")).toBe(412);
    expect(new PersoniumError("PR401-AU-0001").status).toBe(401);
    expect(statusOf("nonsense")).toBe(500);
  });
});
