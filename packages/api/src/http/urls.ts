/** Public URLs: what `Location`, hrefs and error messages name. */
import type { AppConfig } from "../deps.ts";

/**
 * The request URL's parts the pipeline reads on every request are cut from its href
 * rather than parsed: `request.url` is always a serialized absolute URL (the Request
 * constructor and @hono/node-server both normalize it), so the cuts equal
 * `new URL(request.url)`'s `origin`, `pathname` and `search`. The parse cost ~5% of
 * the api's CPU per status poll.
 */
interface HrefParts {
  href: string;
  /** Index of the path's leading `/` (the href's length when there is none). */
  pathStart: number;
  /** Index of `?` or `#`, whichever ends the path (the href's length when neither). */
  pathEnd: number;
}

function partsOf(request: Request): HrefParts {
  const href = request.url;
  const authorityStart = href.indexOf("//") + 2;
  const slash = href.indexOf("/", authorityStart);
  const pathStart = slash === -1 ? href.length : slash;
  let pathEnd = pathStart;
  while (pathEnd < href.length && href[pathEnd] !== "?" && href[pathEnd] !== "#") pathEnd++;
  return { href, pathStart, pathEnd };
}

/** Unit base URL without a trailing slash: the configured one, else the request's origin. */
export function baseUrlOf(config: Pick<AppConfig, "baseUrl">, request: Request): string {
  if (config.baseUrl !== null) return config.baseUrl.replace(/\/+$/, "");
  const { href, pathStart } = partsOf(request);
  const origin = href.slice(0, pathStart);
  // The origin leaves out user info (`user:pass@`), which the href keeps.
  return origin.includes("@") ? new URL(href).origin : origin;
}

/** One query parameter of the request, or null (no query string: no parse at all). */
export function queryParamOf(request: Request, name: string): string | null {
  const { href, pathEnd } = partsOf(request);
  if (href[pathEnd] !== "?") return null;
  const hash = href.indexOf("#", pathEnd);
  return new URLSearchParams(href.slice(pathEnd + 1, hash === -1 ? href.length : hash)).get(name);
}

/** `{CellURL}`: `{base}/{cell}/` (spec §1). */
export function cellUrlOf(baseUrl: string, cell: string): string {
  return `${baseUrl}/${cell}/`;
}

/** The raw (still percent-encoded) path of a request, without query. */
export function rawPathOf(request: Request): string {
  const { href, pathStart, pathEnd } = partsOf(request);
  return pathStart === pathEnd ? "/" : href.slice(pathStart, pathEnd);
}

/** The public URL of the requested resource (no query), e.g. for PR404-DV-0001. */
export function resourceUrlOf(baseUrl: string, request: Request): string {
  return `${baseUrl}${rawPathOf(request)}`;
}

/** Percent-encodes one path segment for an href. */
export function encodeSegment(segment: string): string {
  return encodeURIComponent(segment);
}
