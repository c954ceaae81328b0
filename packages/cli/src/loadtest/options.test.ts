import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.ts";
import { PROFILES } from "../seed-profiles.ts";
import { isLoopbackUrl, type LoadtestOptions, parseMix, validateLoadtestOptions } from "./options.ts";

const base: LoadtestOptions = {
  url: "http://127.0.0.1:8080/",
  durationMs: 15_000,
  maxExports: 10,
  create: 3,
  profile: { ...PROFILES.tiny },
  pollers: 2,
  pollIntervalMs: 100,
  drainTimeoutMs: 60_000,
  mix: [],
  verify: true,
  keep: false,
  allowRemote: false,
  seed: 1,
};

describe("isLoopbackUrl", () => {
  it.each([
    ["http://localhost:8080/", true],
    ["http://127.0.0.1:8080/", true],
    ["http://127.1.2.3/", true],
    ["http://[::1]:8080/", true],
    ["http://api.localhost/", true],
    ["http://10.0.0.5:8080/", false],
    ["http://example.com/", false],
    ["http://127.0.0.1.example.com/", false],
    ["not a url", false],
  ])("%s → %s", (url, loopback) => expect(isLoopbackUrl(url)).toBe(loopback));
});

describe("validateLoadtestOptions", () => {
  it("defaults to a closed model with concurrency 2", () => {
    expect(validateLoadtestOptions(base).concurrency).toBe(2);
  });

  it("refuses a remote target unless allowed", () => {
    const remote = { ...base, url: "http://example.com/" };
    expect(() => validateLoadtestOptions(remote)).toThrow(UsageError);
    expect(() => validateLoadtestOptions(remote)).toThrow(/--allow-remote/);
    expect(validateLoadtestOptions({ ...remote, allowRemote: true }).url).toBe("http://example.com/");
  });

  it("refuses both models at once", () => {
    expect(() => validateLoadtestOptions({ ...base, concurrency: 2, rate: 1 })).toThrow(/not both/);
  });

  it("refuses more concurrent exports than cells", () => {
    expect(() => validateLoadtestOptions({ ...base, concurrency: 4 })).toThrow(
      /at most the number of cells \(3\)/,
    );
    expect(
      validateLoadtestOptions({ ...base, cells: ["a", "b", "c", "d"], concurrency: 4 }).concurrency,
    ).toBe(4);
  });
});

describe("parseMix", () => {
  it("reads lists, all and none", () => {
    expect(parseMix("write,import")).toEqual(["write", "import"]);
    expect(parseMix("all")).toEqual(["download", "import", "write", "duplicate"]);
    expect(parseMix("none")).toEqual([]);
    expect(() => parseMix("write,explode")).toThrow(/`explode`/);
  });
});
