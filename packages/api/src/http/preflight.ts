/** Unauthenticated CORS preflight, answered before cell resolution and auth (spec §2.6 item 2). */

/** Every method the unit serves anywhere; a preflight is answered without routing. */
export const ALL_METHODS = "OPTIONS, GET, HEAD, POST, PUT, DELETE, MKCOL, PROPFIND, REPORT";

const DEFAULT_ALLOW_HEADERS = [
  "Accept",
  "Authorization",
  "Content-Type",
  "Depth",
  "If-Match",
  "If-None-Match",
  "If-Range",
  "Range",
  "X-HTTP-Method-Override",
  "X-Override",
  "X-Personium-RequestKey",
  "X-Requested-With",
].join(", ");

export function isPreflight(request: Request): boolean {
  return request.method === "OPTIONS" && request.headers.has("access-control-request-method");
}

export function preflightResponse(request: Request): Response {
  return new Response(null, {
    status: 200,
    headers: {
      "Access-Control-Allow-Methods": ALL_METHODS,
      // Echo what the browser asks for: the API has no header it wants to hide.
      "Access-Control-Allow-Headers":
        request.headers.get("access-control-request-headers") ?? DEFAULT_ALLOW_HEADERS,
      "Access-Control-Max-Age": "600",
    },
  });
}
