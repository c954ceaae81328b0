/** Headers every response carries, errors and preflights included (spec §2.2, §2.3). */
import { REQUEST_KEY_HEADER } from "@cellport/shared";

/** Lets browser clients read what they need to quote or reuse. */
const EXPOSE = "ETag, Location, WWW-Authenticate, X-Personium-Version, X-Personium-RequestKey, Content-Range";

export function withConventionHeaders(
  response: Response,
  values: { personiumVersion: string; requestKey: string },
): Response {
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
