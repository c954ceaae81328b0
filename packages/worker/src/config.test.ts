import { ConfigError } from "@cellport/runtime";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";

describe("worker loadConfig", () => {
  it("applies the documented defaults", () => {
    expect(loadConfig({})).toEqual({
      CELLPORT_DATA_DIR: "./.data",
      CELLPORT_QUEUE_PREFIX: "{cellport}",
      LOG_LEVEL: "info",
      CELLPORT_SHUTDOWN_TIMEOUT_MS: 10_000,
      CELLPORT_WORKER_CONCURRENCY: 2,
      CELLPORT_LOCK_DURATION_MS: 30_000,
      CELLPORT_STALLED_INTERVAL_MS: 30_000,
      CELLPORT_WORKER_NICE: 10,
    });
  });

  it("reads every variable", () => {
    const config = loadConfig({
      REDIS_URL: "redis://127.0.0.1:6380",
      CELLPORT_DATA_DIR: "/var/cellport",
      CELLPORT_QUEUE_PREFIX: "{cp2}",
      CELLPORT_WORKER_CONCURRENCY: "4",
      CELLPORT_GLOBAL_CONCURRENCY: "8",
      CELLPORT_LOCK_DURATION_MS: "5000",
      CELLPORT_STALLED_INTERVAL_MS: "2000",
      CELLPORT_SHUTDOWN_TIMEOUT_MS: "3000",
      CELLPORT_WORKER_METRICS_PORT: "9500",
      CELLPORT_WORKER_NICE: "0",
      LOG_LEVEL: "debug",
    });
    expect(config).toMatchObject({
      REDIS_URL: "redis://127.0.0.1:6380",
      CELLPORT_WORKER_CONCURRENCY: 4,
      CELLPORT_GLOBAL_CONCURRENCY: 8,
      CELLPORT_LOCK_DURATION_MS: 5_000,
      CELLPORT_STALLED_INTERVAL_MS: 2_000,
      CELLPORT_SHUTDOWN_TIMEOUT_MS: 3_000,
      CELLPORT_WORKER_METRICS_PORT: 9_500,
      CELLPORT_WORKER_NICE: 0,
      LOG_LEVEL: "debug",
    });
  });

  it("names every problem at once", () => {
    let caught: unknown;
    try {
      loadConfig({
        REDIS_URL: "http://nope",
        CELLPORT_WORKER_CONCURRENCY: "zero",
        CELLPORT_GLOBAL_CONCURRENCY: "0",
        CELLPORT_LOCK_DURATION_MS: "-1",
        LOG_LEVEL: "loud",
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join("\n");
    for (const name of [
      "REDIS_URL",
      "CELLPORT_WORKER_CONCURRENCY",
      "CELLPORT_GLOBAL_CONCURRENCY",
      "CELLPORT_LOCK_DURATION_MS",
      "LOG_LEVEL",
    ]) {
      expect(problems).toContain(name);
    }
    // A URL may carry a password: never echoed.
    expect(problems).not.toContain("http://nope");
  });

  it("reads the metrics port: a number, 0 (a free port) or off; unset leaves the default to the server", () => {
    expect(loadConfig({}).CELLPORT_WORKER_METRICS_PORT).toBeUndefined();
    expect(loadConfig({ CELLPORT_WORKER_METRICS_PORT: "0" }).CELLPORT_WORKER_METRICS_PORT).toBe(0);
    expect(loadConfig({ CELLPORT_WORKER_METRICS_PORT: " off " }).CELLPORT_WORKER_METRICS_PORT).toBe("off");
    for (const bad of ["65536", "-1", "no", "9464x"]) {
      expect(() => loadConfig({ CELLPORT_WORKER_METRICS_PORT: bad }), bad).toThrow(
        /CELLPORT_WORKER_METRICS_PORT.*expected a port number \(0-65535\) or off/,
      );
    }
  });
});
