/** `X-Personium-RequestKey` rules (spec §2.3). */

export const REQUEST_KEY_HEADER = "X-Personium-RequestKey";

/** At most 128 characters of `A-Z a-z 0-9 _ -`; the empty string is valid. */
const REQUEST_KEY_PATTERN = /^[A-Za-z0-9_-]{0,128}$/;

export function isValidRequestKey(value: string): boolean {
  return REQUEST_KEY_PATTERN.test(value);
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Unpadded base64url of `bytes` (generated on every request without a key: kept cheap). */
function base64url(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out +=
      BASE64URL.charAt(n >> 18) +
      BASE64URL.charAt((n >> 12) & 63) +
      BASE64URL.charAt((n >> 6) & 63) +
      BASE64URL.charAt(n & 63);
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = ((bytes[i] ?? 0) << 16) | (rest === 2 ? (bytes[i + 1] ?? 0) << 8 : 0);
    out += BASE64URL.charAt(n >> 18) + BASE64URL.charAt((n >> 12) & 63);
    if (rest === 2) out += BASE64URL.charAt((n >> 6) & 63);
  }
  return out;
}

/**
 * Random bytes drawn 4 KiB at a time: one getrandom call per request costs more than
 * the rest of the key. The 16 bytes are a view into the pool (no copy): they are read
 * at once, before the pool is next refilled.
 */
const pool = new Uint8Array(4096);
let poolOffset = pool.length;
function randomBytes16(): Uint8Array {
  if (poolOffset + 16 > pool.length) {
    globalThis.crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  poolOffset += 16;
  return pool.subarray(poolOffset - 16, poolOffset);
}

/**
 * A fresh key in the seed's `${4}_${22}` form from sixteen random bytes: the first
 * three give the 4 characters, all sixteen the 22.
 */
export function generateRequestKey(bytes: Uint8Array = randomBytes16()): string {
  return `${base64url(bytes.subarray(0, 3))}_${base64url(bytes)}`;
}
