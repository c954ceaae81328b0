/** Headers every response carries, errors and preflights included (spec §2.2, §2.3). */
import { REQUEST_KEY_HEADER } from "@cellport/shared";

/** Lets browser clients read what they need to quote or reuse. */
const EXPOSE = "ETag, Location, WWW-Authenticate, X-Personium-Version, X-Personium-RequestKey, Content-Range";

/** The part of Node's ServerResponse used here. */
export interface NodeResponseHeaders {
  readonly headersSent: boolean;
  setHeader(name: string, value: string): unknown;
}

/**
 * Stamps the headers. Served by Node, they go on the Node response, which merges them
 * into whatever the web Response carries: reading `response.headers` would turn
 * @hono/node-server's lightweight Response into a full one, the single most expensive
 * step of a status poll. Otherwise (in-process requests) they go on the Response.
 */
export function withConventionHeaders(
  response: Response,
  values: { personiumVersion: string; requestKey: string },
  nodeResponse?: NodeResponseHeaders,
): Response {
  if (nodeResponse && !nodeResponse.headersSent) {
    nodeResponse.setHeader("X-Personium-Version", values.personiumVersion);
    nodeResponse.setHeader("Access-Control-Allow-Origin", "*");
    nodeResponse.setHeader("Access-Control-Expose-Headers", EXPOSE);
    nodeResponse.setHeader(REQUEST_KEY_HEADER, values.requestKey);
    return response;
  }
  let target = response;
  try {
    target.headers.set("X-Personium-Version", values.personiumVersion);
  } catch {
    // Headers of some responses are immutable (e.g. a proxied fetch Response): copy it.
    target = new Response(response.body, response);
    target.headers.set("X-Personium-Version", values.personiumVersion);
  }
  target.headers.set("Access-Control-Allow-Origin", "*");
  target.headers.set("Access-Control-Expose-Headers", EXPOSE);
  target.headers.set(REQUEST_KEY_HEADER, values.requestKey);
  return target;
}
