/** Public URLs: what `Location`, hrefs and error messages name. */
import type { AppConfig } from "../deps.ts";

const parsedUrls = new WeakMap<Request, URL>();

/** The request's URL, parsed once per Request (the pipeline asks for it several times). */
export function urlOf(request: Request): URL {
  let url = parsedUrls.get(request);
  if (!url) {
    url = new URL(request.url);
    parsedUrls.set(request, url);
  }
  return url;
}

/** Unit base URL without a trailing slash: the configured one, else the request's origin. */
export function baseUrlOf(config: Pick<AppConfig, "baseUrl">, request: Request): string {
  const base = config.baseUrl ?? urlOf(request).origin;
  return base.replace(/\/+$/, "");
}

/** `{CellURL}`: `{base}/{cell}/` (spec §1). */
export function cellUrlOf(baseUrl: string, cell: string): string {
  return `${baseUrl}/${cell}/`;
}

/** The raw (still percent-encoded) path of a request, without query. */
export function rawPathOf(request: Request): string {
  return urlOf(request).pathname;
}

/** The public URL of the requested resource (no query), e.g. for PR404-DV-0001. */
export function resourceUrlOf(baseUrl: string, request: Request): string {
  return `${baseUrl}${rawPathOf(request)}`;
}

/** Percent-encodes one path segment for an href. */
export function encodeSegment(segment: string): string {
  return encodeURIComponent(segment);
}
