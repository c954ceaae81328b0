/** `X-Personium-RequestKey` (spec §2.3): validated before routing and auth, generated when absent. */
import { generateRequestKey, isValidRequestKey, REQUEST_KEY_HEADER } from "@cellport/shared";

export type RequestKeyResult = { valid: true; key: string } | { valid: false; key: string };

/**
 * The request's key. An invalid one is replaced by a generated key (returned with
 * `valid: false`) so even the 400 can be echoed and logged under a usable key.
 */
export function resolveRequestKey(
  headers: Headers,
  generate: () => string = generateRequestKey,
): RequestKeyResult {
  const given = headers.get(REQUEST_KEY_HEADER);
  if (given === null) return { valid: true, key: generate() };
  if (isValidRequestKey(given)) return { valid: true, key: given };
  return { valid: false, key: generate() };
}
