/**
 * The queue dashboard's gate: the unit master token, either as a Bearer token
 * (scripts, curl) or as the password of HTTP Basic (browsers). Basic is what makes
 * the dashboard usable from a browser without a login page: the browser asks once,
 * then resends the credentials with every request under the dashboard's path — the
 * UI's own API calls and assets included — with no cookie to protect against CSRF
 * and no token in a URL (where history, proxies and logs would keep it).
 */
import { PersoniumError } from "@cellport/shared";
import type { MiddlewareHandler } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../http/env.ts";
import { authenticate, authorizeUnitMaster } from "./authorize.ts";
import { unauthorized } from "./credentials.ts";

/** What makes a browser show its login dialog. */
export const DASHBOARD_CHALLENGE = 'Basic realm="cellport queue dashboard", charset="UTF-8"';

/** The token of an `Authorization` header: `Bearer <token>`, or `Basic` with the token as the password. */
export function dashboardTokenOf(authorization: string | undefined, realm: string): string | null {
  const header = authorization?.trim() ?? "";
  if (header === "") return null;
  const bearer = /^Bearer[ \t]+(\S+)$/i.exec(header);
  if (bearer?.[1]) return bearer[1];
  const basic = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})$/i.exec(header);
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    // The user name is free: browsers insist on one, and the token alone is the secret.
    if (colon !== -1 && colon < decoded.length - 1) return decoded.slice(colon + 1);
  }
  throw unauthorized("PR401-AU-0006", realm);
}

export function requireDashboardAccess(deps: AppDeps): MiddlewareHandler<AppEnv> {
  const secrets = { masterToken: deps.config.masterToken, tokenSecret: deps.config.tokenSecret };
  return async function requireDashboardAccess(c, next) {
    const realm = `${c.get("baseUrl")}/`;
    try {
      authorizeUnitMaster(
        authenticate(dashboardTokenOf(c.req.header("authorization"), realm), secrets, realm),
      );
    } catch (error) {
      // Every 401 offers Basic, so a browser asks for the token (again) instead of showing JSON.
      if (error instanceof PersoniumError && error.status === 401) {
        throw new PersoniumError(error.code, error.params, { "WWW-Authenticate": DASHBOARD_CHALLENGE });
      }
      throw error;
    }
    await next();
  };
}
