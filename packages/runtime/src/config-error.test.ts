import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, parseEnv } from "./config-error.ts";
import { commonEnv, importLimitsFrom, intVar } from "./env.ts";

const schema = z.object({ ...commonEnv, PORT: intVar(8080, 0, 65535) });

describe("parseEnv", () => {
  it("applies defaults", () => {
    expect(parseEnv(schema, {})).toMatchObject({
      PORT: 8080,
      CELLPORT_DATA_DIR: "./.data",
      CELLPORT_QUEUE_PREFIX: "{cellport}",
      LOG_LEVEL: "info",
    });
  });

  it("names every bad variable in one error", () => {
    const attempt = () => parseEnv(schema, { PORT: "eighty", LOG_LEVEL: "loud", REDIS_URL: "http://x" });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems.join("\n");
      expect(problems).toMatch(/PORT: .*got `eighty`/);
      expect(problems).toMatch(/LOG_LEVEL/);
      expect(problems).toMatch(/REDIS_URL: expected a redis/);
    }
  });
});

describe("importLimitsFrom", () => {
  it("maps only the bounds that are set", () => {
    expect(importLimitsFrom(parseEnv(schema, {}))).toEqual({});
    expect(
      importLimitsFrom(
        parseEnv(schema, { CELLPORT_IMPORT_MAX_ENTRIES: "10", CELLPORT_IMPORT_MAX_TOTAL_BYTES: "4096" }),
      ),
    ).toEqual({ maxEntries: 10, maxTotalBytes: 4096 });
  });
});
