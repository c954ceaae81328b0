/**
 * @cellport/api — the Hono application (for main.ts and tests) and the token helpers
 * (for the CLI; `auth/tokens.ts` has no Hono dependency).
 */
export { type CellportApp, createApp } from "./app.ts";
export { authenticate, authorizeCellRoot, authorizeUnitMaster } from "./auth/authorize.ts";
export { P_COOKIE, P_COOKIE_PEER } from "./auth/credentials.ts";
export { requireCellRoot, requireUnitMaster } from "./auth/middleware.ts";
export type { Principal } from "./auth/principal.ts";
export {
  type CellTokenClaims,
  type MintCellTokenOptions,
  mintCellToken,
  mintPCookie,
  openPCookie,
  verifyCellToken,
} from "./auth/tokens.ts";
export { assertCellWritable, cellWriteLock } from "./cell/lock.ts";
export { type AppConfig, type AppDeps, DEFAULT_PERSONIUM_VERSION, type ReadinessCheck } from "./deps.ts";
export type { AppEnv } from "./http/env.ts";
export { defineResource } from "./http/resource.ts";
