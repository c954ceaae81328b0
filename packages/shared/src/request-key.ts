/** `X-Personium-RequestKey` rules (spec §2.3). */

export const REQUEST_KEY_HEADER = "X-Personium-RequestKey";

/** At most 128 characters of `A-Z a-z 0-9 _ -`; the empty string is valid. */
const REQUEST_KEY_PATTERN = /^[A-Za-z0-9_-]{0,128}$/;

export function isValidRequestKey(value: string): boolean {
  return REQUEST_KEY_PATTERN.test(value);
}

/**
 * A fresh key in the seed's `${4}_${22}` form: 4 base64url characters, `_`, 22 more,
 * all drawn from one random UUID's 122 random bits.
 */
export function generateRequestKey(uuid: string = globalThis.crypto.randomUUID()): string {
  const hex = uuid.replace(/-/g, "");
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  const encoded = btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
  return `${encoded.slice(0, 4)}_${encoded.slice(4, 26)}`;
}
