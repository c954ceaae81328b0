import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { mintCellToken, mintPCookie, openPCookie, secretsEqual, verifyCellToken } from "./tokens.ts";

const SECRET = "s".repeat(40);
const NOW = Date.UTC(2030, 0, 1);

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function signed(header: unknown, payload: unknown, secret = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

describe("cell tokens", () => {
  it("round-trips the claims", () => {
    const token = mintCellToken({
      secret: SECRET,
      cell: "c1",
      privileges: ["root"],
      scope: ["root", "read"],
      ttlSeconds: 60,
      sub: "me",
      now: NOW,
    });
    const check = verifyCellToken(token, SECRET, NOW);
    expect(check).toEqual({
      ok: true,
      claims: {
        cell: "c1",
        sub: "me",
        privileges: ["root"],
        scope: "root read",
        exp: NOW / 1000 + 60,
        iat: NOW / 1000,
      },
    });
  });

  it("omits scope unless asked and defaults sub", () => {
    const check = verifyCellToken(
      mintCellToken({ secret: SECRET, cell: "c1", privileges: [], ttlSeconds: 60, now: NOW }),
      SECRET,
      NOW,
    );
    expect(check.ok && check.claims.scope).toBe(undefined);
    expect(check.ok && check.claims.sub).toBe("c1#cellport");
  });

  it("reports expiry only for a correctly signed token", () => {
    const token = mintCellToken({
      secret: SECRET,
      cell: "c1",
      privileges: ["root"],
      ttlSeconds: 60,
      now: NOW,
    });
    expect(verifyCellToken(token, SECRET, NOW + 60_000)).toEqual({ ok: false, reason: "expired" });
    expect(verifyCellToken(token, "other".repeat(10), NOW + 60_000)).toEqual({
      ok: false,
      reason: "signature",
    });
  });

  it("refuses alg none and every algorithm but HS256", () => {
    const payload = { cell: "c1", sub: "x", privileges: ["root"], exp: NOW / 1000 + 60 };
    expect(verifyCellToken(`${b64({ alg: "none" })}.${b64(payload)}.`, SECRET, NOW)).toEqual({
      ok: false,
      reason: "algorithm",
    });
    expect(verifyCellToken(signed({ alg: "HS512" }, payload), SECRET, NOW)).toEqual({
      ok: false,
      reason: "algorithm",
    });
    expect(verifyCellToken(signed({ alg: "RS256" }, payload), SECRET, NOW)).toEqual({
      ok: false,
      reason: "algorithm",
    });
  });

  it("refuses tampered payloads, bad encodings and missing claims", () => {
    const token = mintCellToken({
      secret: SECRET,
      cell: "c1",
      privileges: ["read"],
      ttlSeconds: 60,
      now: NOW,
    });
    const [h, , s] = token.split(".");
    const forged = `${h}.${b64({ cell: "c1", privileges: ["root"], exp: NOW / 1000 + 60 })}.${s}`;
    expect(verifyCellToken(forged, SECRET, NOW)).toEqual({ ok: false, reason: "signature" });
    expect(verifyCellToken("abc", SECRET, NOW)).toEqual({ ok: false, reason: "malformed" });
    expect(verifyCellToken("a.b.c.d", SECRET, NOW)).toEqual({ ok: false, reason: "malformed" });
    expect(verifyCellToken("!!!.e30.x", SECRET, NOW)).toEqual({ ok: false, reason: "malformed" });
    expect(verifyCellToken(`${token}x`, SECRET, NOW)).toEqual({ ok: false, reason: "signature" });
    expect(
      verifyCellToken(signed({ alg: "HS256" }, { cell: "c1", exp: NOW / 1000 + 60 }), SECRET, NOW),
    ).toEqual({
      ok: false,
      reason: "claims",
    });
    expect(
      verifyCellToken(signed({ alg: "HS256" }, { cell: "c1", privileges: ["root"] }), SECRET, NOW),
    ).toEqual({
      ok: false,
      reason: "claims",
    });
  });
});

describe("p_cookie", () => {
  it("round-trips peer and token, with a fresh IV each time", () => {
    const a = mintPCookie({ secret: SECRET, token: "tok", peer: "peer-1" });
    const b = mintPCookie({ secret: SECRET, token: "tok", peer: "peer-1" });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(a).not.toContain("tok");
    expect(openPCookie(a, SECRET)).toEqual({ peer: "peer-1", token: "tok" });
  });

  it("refuses another secret, tampering, truncation and garbage", () => {
    const cookie = mintPCookie({ secret: SECRET, token: "tok", peer: "p" });
    expect(openPCookie(cookie, "x".repeat(40))).toBeNull();
    const raw = Buffer.from(cookie, "base64url");
    raw[raw.length - 20] = (raw[raw.length - 20] ?? 0) ^ 1;
    expect(openPCookie(raw.toString("base64url"), SECRET)).toBeNull();
    expect(openPCookie(cookie.slice(0, 20), SECRET)).toBeNull();
    expect(openPCookie("not base64!", SECRET)).toBeNull();
    expect(openPCookie("", SECRET)).toBeNull();
  });
});

describe("secretsEqual", () => {
  it("compares whole values of any length", () => {
    expect(secretsEqual("abc", "abc")).toBe(true);
    expect(secretsEqual("abc", "abcd")).toBe(false);
    expect(secretsEqual("", "abc")).toBe(false);
  });
});
