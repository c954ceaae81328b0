import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createUnredactedSibling } from "./logger.ts";

describe("createUnredactedSibling", () => {
  it("writes to the same stream with the same bindings, without the redaction pass", () => {
    const lines: string[] = [];
    const logger = pino(
      { name: "api", base: { pid: process.pid, proc: "api" }, redact: ["token"] },
      { write: (line: string) => void lines.push(line) },
    );
    const sibling = createUnredactedSibling(logger);
    logger.info({ token: "secret" }, "redacted");
    sibling.info({ token: "kept" }, "plain");
    const [first, second] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(first).toMatchObject({ token: "[Redacted]", pid: process.pid, proc: "api", name: "api" });
    expect(second).toMatchObject({ token: "kept", pid: process.pid, proc: "api", name: "api", msg: "plain" });
    expect(typeof second?.time).toBe("string");
  });
});
