/** The api's environment: the variables of the metrics and the queue dashboard. */
import { ConfigError } from "@cellport/runtime";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";

describe("api loadConfig", () => {
  it("leaves /metrics open and the dashboard read-only by default", () => {
    expect(loadConfig({})).toMatchObject({
      CELLPORT_METRICS_TOKEN_REQUIRED: false,
      CELLPORT_QUEUE_DASHBOARD: "read-only",
    });
  });

  it("reads both", () => {
    for (const [given, expected] of [
      ["true", true],
      ["TRUE", true],
      ["1", true],
      ["yes", true],
      ["false", false],
      ["0", false],
      ["no", false],
    ] as const) {
      expect(
        loadConfig({ CELLPORT_METRICS_TOKEN_REQUIRED: given }).CELLPORT_METRICS_TOKEN_REQUIRED,
        given,
      ).toBe(expected);
    }
    for (const mode of ["read-only", "read-write", "off"]) {
      expect(loadConfig({ CELLPORT_QUEUE_DASHBOARD: mode }).CELLPORT_QUEUE_DASHBOARD).toBe(mode);
    }
  });

  it("names bad values", () => {
    let caught: unknown;
    try {
      loadConfig({ CELLPORT_METRICS_TOKEN_REQUIRED: "maybe", CELLPORT_QUEUE_DASHBOARD: "on" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join("\n");
    expect(problems).toContain("CELLPORT_METRICS_TOKEN_REQUIRED: expected true or false");
    expect(problems).toContain("CELLPORT_QUEUE_DASHBOARD");
  });
});
