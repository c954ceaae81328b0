import { describe, expect, it } from "vitest";
import { generateRequestKey, isValidRequestKey } from "./request-key.ts";

describe("request key", () => {
  it.each([
    ["", true],
    ["abc-DEF_123", true],
    ["a".repeat(128), true],
    ["a".repeat(129), false],
    ["a b", false],
    ["a.b", false],
    ["ключ", false],
  ])("%j valid: %s", (key, ok) => expect(isValidRequestKey(key)).toBe(ok));

  it("encodes its bytes as base64url", () => {
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    const b64 = (data: Uint8Array) => Buffer.from(data).toString("base64url");
    expect(generateRequestKey(bytes)).toBe(`${b64(bytes.subarray(0, 3))}_${b64(bytes)}`);
  });

  it("generates the seed's 4_22 form, valid and distinct", () => {
    const keys = new Set(Array.from({ length: 100 }, () => generateRequestKey()));
    expect(keys.size).toBe(100);
    for (const key of keys) {
      expect(key).toMatch(/^[A-Za-z0-9_-]{4}_[A-Za-z0-9_-]{22}$/);
      expect(isValidRequestKey(key)).toBe(true);
    }
  });
});
