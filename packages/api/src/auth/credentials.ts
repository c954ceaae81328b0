/**
 * Where a bearer token comes from (spec §2.5): the `Authorization` header, or — only
 * when there is none — the p_cookie pair (`p_cookie_peer` query + `p_cookie` cookie).
 */
import { PersoniumError } from "@cellport/shared";
import { queryParamOf } from "../http/urls.ts";
import { openPCookie } from "./tokens.ts";

export const P_COOKIE = "p_cookie";
export const P_COOKIE_PEER = "p_cookie_peer";

export interface CredentialSource {
  authorization: string | null;
  cookieHeader: string | null;
  /** The `p_cookie_peer` query parameter. */
  peer: string | null;
}

export function credentialSourceOf(request: Request): CredentialSource {
  return {
    authorization: request.headers.get("authorization"),
    cookieHeader: request.headers.get("cookie"),
    peer: queryParamOf(request, P_COOKIE_PEER),
  };
}

/** A 401 with the challenge every 401 must carry (spec §2.1). */
export function unauthorized(
  code: "PR401-AU-0001" | "PR401-AU-0002" | "PR401-AU-0006" | "PR401-AU-0009",
  realm: string,
) {
  return new PersoniumError(code, [], { "WWW-Authenticate": `Bearer realm="${realm}"` });
}

/** One cookie's value from a `Cookie` header, or null. */
export function readCookie(cookieHeader: string | null, name: string): string | null {
  if (!cookieHeader) return null;
  for (const pair of cookieHeader.split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
  }
  return null;
}

/**
 * The bearer token of a request, or null when it carries no credentials at all.
 * An `Authorization` header that is not `Bearer <token>` is a parse error (Basic and
 * other schemes are not offered). An empty header counts as absent, so
 * `X-Override: Authorization:` can clear it.
 */
export function readBearerToken(
  source: CredentialSource,
  options: { secret: string; realm: string },
): string | null {
  const authorization = source.authorization?.trim() ?? "";
  if (authorization !== "") {
    const match = /^Bearer[ \t]+(\S+)$/i.exec(authorization);
    if (!match?.[1]) throw unauthorized("PR401-AU-0006", options.realm);
    return match[1];
  }
  if (source.peer === null) return null;
  const cookie = readCookie(source.cookieHeader, P_COOKIE);
  const content = cookie ? openPCookie(cookie, options.secret) : null;
  if (!content || content.peer !== source.peer) throw unauthorized("PR401-AU-0009", options.realm);
  return content.token;
}
