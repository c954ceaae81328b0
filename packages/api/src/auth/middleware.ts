/** Auth middleware: read credentials, authenticate, authorise, remember the principal. */
import type { MiddlewareHandler } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../http/env.ts";
import { authenticate, authorizeCellRoot, authorizeUnitMaster } from "./authorize.ts";
import { credentialSourceOf, readBearerToken } from "./credentials.ts";
import type { Principal } from "./principal.ts";

function secretsOf(deps: AppDeps) {
  return { masterToken: deps.config.masterToken, tokenSecret: deps.config.tokenSecret };
}

/** Authenticates the request against `realm` (the URL named in `WWW-Authenticate`). */
export function principalOf(request: Request, deps: AppDeps, realm: string): Principal {
  const token = readBearerToken(credentialSourceOf(request), { secret: deps.config.tokenSecret, realm });
  return authenticate(token, secretsOf(deps), realm);
}

/** The addressed cell's `root` privilege. Needs `resolveCell` before it (it reads `cell`/`cellUrl`). */
export function requireCellRoot(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async function requireCellRoot(c, next) {
    const principal = principalOf(c.req.raw, deps, c.get("cellUrl"));
    authorizeCellRoot(principal, c.get("cell"));
    c.set("principal", principal);
    await next();
  };
}

/** The unit master token (unit-level APIs); the realm is the unit URL. */
export function requireUnitMaster(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async function requireUnitMaster(c, next) {
    const principal = principalOf(c.req.raw, deps, `${c.get("baseUrl")}/`);
    authorizeUnitMaster(principal);
    c.set("principal", principal);
    await next();
  };
}

/** Any valid token, master or cell (e.g. to wrap it into a p_cookie). */
export function requireAnyToken(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async function requireAnyToken(c, next) {
    c.set("principal", principalOf(c.req.raw, deps, `${c.get("baseUrl")}/`));
    await next();
  };
}
