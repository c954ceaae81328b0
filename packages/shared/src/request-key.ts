/** `X-Personium-RequestKey` rules (spec §2.3). */

export const REQUEST_KEY_HEADER = "X-Personium-RequestKey";

/** At most 128 characters of `A-Z a-z 0-9 _ -`; the empty string is valid. */
const REQUEST_KEY_PATTERN = /^[A-Za-z0-9_-]{0,128}$/;

export function isValidRequestKey(value: string): boolean {
  return REQUEST_KEY_PATTERN.test(value);
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/**
 * A fresh key in the seed's `${4}_${22}` form, from one random UUID: its first three
 * bytes give the 4 characters, all sixteen bytes the 22.
 */
export function generateRequestKey(uuid: string = globalThis.crypto.randomUUID()): string {
  const hex = uuid.replace(/-/g, "");
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return `${base64url(bytes.subarray(0, 3))}_${base64url(bytes)}`;
}
