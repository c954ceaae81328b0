import { describe, expect, it } from "vitest";
import { UsageError } from "./errors.ts";
import { formatBytes, formatDuration, parseDuration, parseInteger, parseNumber, parseSize } from "./units.ts";

describe("parseSize", () => {
  it.each([
    ["512", 512],
    ["30MB", 30 * 1024 ** 2],
    ["30mb", 30 * 1024 ** 2],
    ["30 MiB", 30 * 1024 ** 2],
    ["1GB", 1024 ** 3],
    ["1.5G", 1.5 * 1024 ** 3],
    ["64k", 65536],
    ["10B", 10],
  ])("%s → %d", (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it.each(["", "MB", "30XB", "-1MB", "1e3", "30 M B"])("refuses %j with a usage error", (text) => {
    expect(() => parseSize(text)).toThrow(UsageError);
    expect(() => parseSize(text)).toThrow(/Expected a size like `30MB`/);
  });
});

describe("parseDuration", () => {
  it.each([
    ["15s", 15_000],
    ["15", 15_000],
    ["500ms", 500],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["0.5s", 500],
  ])("%s → %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it("refuses nonsense", () => expect(() => parseDuration("soon")).toThrow(UsageError));
});

describe("numbers", () => {
  it("bounds integers and names the flag", () => {
    expect(parseInteger("3", "--boxes", 0, 10)).toBe(3);
    expect(() => parseInteger("11", "--boxes", 0, 10)).toThrow(
      /`--boxes` to be a whole number from 0 to 10, got `11`/,
    );
    expect(() => parseInteger("1.5", "--boxes")).toThrow(UsageError);
  });

  it("reads ratios as fractions or percents", () => {
    expect(parseNumber("0.25", "--text-ratio", 0, 1)).toBe(0.25);
    expect(parseNumber("50%", "--text-ratio", 0, 1)).toBe(0.5);
    expect(() => parseNumber("150%", "--text-ratio", 0, 1)).toThrow(UsageError);
  });
});

describe("formatting", () => {
  it("prints binary sizes and short durations", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(30 * 1024 ** 2)).toBe("30.0 MiB");
    expect(formatDuration(95)).toBe("95 ms");
    expect(formatDuration(1234)).toBe("1.23 s");
    expect(formatDuration(125_000)).toBe("2m05s");
  });
});
