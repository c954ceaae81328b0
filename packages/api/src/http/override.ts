/**
 * `X-Override` and `X-HTTP-Method-Override` (spec §2.4). They must change what gets
 * routed, so they are applied to the Request itself before dispatch — a middleware
 * would run after Hono has already matched the route by the original method.
 */

export const X_OVERRIDE = "x-override";
export const X_METHOD_OVERRIDE = "x-http-method-override";

/** An HTTP token: what a method name may be. */
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * Where a joined `X-Override` value starts a new entry: `, Name:`. Fetch's Headers
 * joins repeated headers with ", "; this recovers the entries when the raw header
 * lines are not available (in-process requests).
 */
const NEXT_ENTRY = /,\s*(?=[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*:)/;

export interface HeaderOverride {
  name: string;
  value: string;
}

/** Splits one entry at its first `:`; entries without a colon or with an empty name are ignored. */
export function parseOverrideEntry(entry: string): HeaderOverride | null {
  const colon = entry.indexOf(":");
  if (colon === -1) return null;
  const name = entry.slice(0, colon).trim();
  if (name === "" || !METHOD_TOKEN.test(name)) return null;
  return { name, value: entry.slice(colon + 1).trim() };
}

/** The entries of `X-Override`, in order: from raw header lines when given, else from the joined value. */
export function overrideEntries(joined: string | null, rawLines?: readonly string[]): HeaderOverride[] {
  const lines = rawLines ?? (joined === null ? [] : joined.split(NEXT_ENTRY));
  return lines.map(parseOverrideEntry).filter((o): o is HeaderOverride => o !== null);
}

/** Values of one header as separate lines, from Node's `rawHeaders` (`[name, value, name, value, …]`). */
export function rawHeaderValues(rawHeaders: unknown, name: string): string[] | undefined {
  if (!Array.isArray(rawHeaders)) return undefined;
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const key = rawHeaders[i];
    const value = rawHeaders[i + 1];
    if (typeof key === "string" && typeof value === "string" && key.toLowerCase() === name)
      values.push(value);
  }
  return values;
}

/**
 * The request as the rest of the app must see it. Header overrides apply first (so
 * `X-Override: X-HTTP-Method-Override: DELETE` also works), then the method override,
 * which only a POST may carry. Returns the original Request when nothing changes.
 */
export function applyOverrides(request: Request, rawOverrideLines?: readonly string[]): Request {
  const entries = overrideEntries(request.headers.get(X_OVERRIDE), rawOverrideLines);
  let headers: Headers | null = null;
  for (const { name, value } of entries) {
    headers ??= new Headers(request.headers);
    headers.set(name, value);
  }
  const effectiveHeaders = headers ?? request.headers;
  let method = request.method;
  const methodOverride = effectiveHeaders.get(X_METHOD_OVERRIDE)?.trim();
  if (request.method === "POST" && methodOverride && METHOD_TOKEN.test(methodOverride)) {
    method = methodOverride.toUpperCase();
  }
  if (headers === null && method === request.method) return request;

  const bodyless = method === "GET" || method === "HEAD";
  const init: RequestInit & { duplex?: "half" } = {
    method,
    headers: effectiveHeaders,
    body: bodyless ? null : request.body,
    signal: request.signal,
  };
  if (init.body) init.duplex = "half";
  return new Request(request.url, init);
}
