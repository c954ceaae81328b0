/**
 * Cell tokens (HS256 JWTs) and p_cookies, with node:crypto only. No Hono here: the
 * CLI imports this module (via `@cellport/api`) to mint tokens and cookies.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";

export interface CellTokenClaims {
  /** The cell the token belongs to. */
  cell: string;
  sub: string;
  /** Personium privilege names, e.g. `["root"]`, `["read"]`. */
  privileges: string[];
  /** Space-separated; when present it restricts what the privileges allow. */
  scope?: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  iat?: number;
}

export interface MintCellTokenOptions {
  secret: string;
  cell: string;
  privileges: readonly string[];
  /** A space-separated string or a list; omitted → no scope claim. */
  scope?: string | readonly string[];
  ttlSeconds: number;
  sub?: string;
  /** Epoch ms "now" (tests). */
  now?: number;
}

export type TokenCheck =
  | { ok: true; claims: CellTokenClaims }
  | { ok: false; reason: "malformed" | "algorithm" | "signature" | "claims" | "expired" };

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

function hs256(secret: string, signingInput: string): Buffer {
  return createHmac("sha256", secret).update(signingInput).digest();
}

export function mintCellToken(options: MintCellTokenOptions): string {
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  const claims: CellTokenClaims = {
    cell: options.cell,
    sub: options.sub ?? `${options.cell}#cellport`,
    privileges: [...options.privileges],
    exp: nowSeconds + options.ttlSeconds,
    iat: nowSeconds,
  };
  if (options.scope !== undefined) {
    claims.scope = typeof options.scope === "string" ? options.scope : options.scope.join(" ");
  }
  const signingInput = `${encodeJson({ alg: "HS256", typ: "JWT" })}.${encodeJson(claims)}`;
  return `${signingInput}.${hs256(options.secret, signingInput).toString("base64url")}`;
}

function decodeJson(segment: string): unknown {
  if (!BASE64URL.test(segment)) return undefined;
  try {
    return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/**
 * Verifies a cell token. Order matters: the algorithm is pinned to HS256 before any
 * signature work (`none` and every other `alg` are refused — the classic JWT
 * downgrade), and expiry is reported only for a correctly signed token, so an
 * unsigned token learns nothing.
 */
export function verifyCellToken(token: string, secret: string, now: number = Date.now()): TokenCheck {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed" };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  if (!isRecord(header)) return { ok: false, reason: "malformed" };
  if (header.alg !== "HS256") return { ok: false, reason: "algorithm" };
  if (!BASE64URL.test(signaturePart)) return { ok: false, reason: "signature" };
  const given = Buffer.from(signaturePart, "base64url");
  const expected = hs256(secret, `${headerPart}.${payloadPart}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: "signature" };
  }
  const payload = decodeJson(payloadPart);
  if (
    !isRecord(payload) ||
    typeof payload.cell !== "string" ||
    !isStringArray(payload.privileges) ||
    typeof payload.exp !== "number" ||
    !Number.isFinite(payload.exp) ||
    (payload.sub !== undefined && typeof payload.sub !== "string") ||
    (payload.scope !== undefined && typeof payload.scope !== "string")
  ) {
    return { ok: false, reason: "claims" };
  }
  if (payload.exp * 1000 <= now) return { ok: false, reason: "expired" };
  const claims: CellTokenClaims = {
    cell: payload.cell,
    sub: typeof payload.sub === "string" ? payload.sub : "",
    privileges: payload.privileges,
    exp: payload.exp,
  };
  if (typeof payload.scope === "string") claims.scope = payload.scope;
  if (typeof payload.iat === "number") claims.iat = payload.iat;
  return { ok: true, claims };
}

/**
 * Constant-time string equality for secrets: the bytes are compared with
 * `timingSafeEqual`, so their content does not leak; only the length can, as with any
 * constant-time comparison.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given, "utf8");
  const b = expectedBytes(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The expected side is the process's master token: encoded once, not on every request. */
const expectedEncodings = new Map<string, Buffer>();
function expectedBytes(expected: string): Buffer {
  let bytes = expectedEncodings.get(expected);
  if (!bytes) {
    if (expectedEncodings.size >= 16) expectedEncodings.clear();
    bytes = Buffer.from(expected, "utf8");
    expectedEncodings.set(expected, bytes);
  }
  return bytes;
}

// --- p_cookie -------------------------------------------------------------------

export interface PCookieContent {
  peer: string;
  token: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Bound into the ciphertext so a p_cookie cannot be replayed as another kind of blob. */
const AAD = Buffer.from("cellport p_cookie v1");

/** A dedicated key for cookies: never the HS256 key itself. */
function cookieKey(secret: string): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, "cellport", "p_cookie v1", 32));
}

/** `base64url(iv ‖ AES-256-GCM(JSON {peer, token}) ‖ tag)`. */
export function mintPCookie(options: { secret: string; token: string; peer: string }): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", cookieKey(options.secret), iv);
  cipher.setAAD(AAD);
  const plaintext = Buffer.from(JSON.stringify({ peer: options.peer, token: options.token }), "utf8");
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
}

/** The cookie's content, or null when it does not decrypt and authenticate. */
export function openPCookie(cookie: string, secret: string): PCookieContent | null {
  if (!BASE64URL.test(cookie)) return null;
  const raw = Buffer.from(cookie, "base64url");
  if (raw.length < IV_BYTES + TAG_BYTES + 1) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", cookieKey(secret), raw.subarray(0, IV_BYTES));
    decipher.setAAD(AAD);
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    const plaintext = Buffer.concat([
      decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]);
    const content: unknown = JSON.parse(plaintext.toString("utf8"));
    if (!isRecord(content) || typeof content.peer !== "string" || typeof content.token !== "string")
      return null;
    return { peer: content.peer, token: content.token };
  } catch {
    return null;
  }
}
