/**
 * Token → principal → decision, as plain functions (the middleware in
 * `middleware.ts` only wires them to a request).
 */
import { PersoniumError } from "@cellport/shared";
import { unauthorized } from "./credentials.ts";
import type { Principal } from "./principal.ts";
import { secretsEqual, verifyCellToken } from "./tokens.ts";

export const ROOT_PRIVILEGE = "root";

export interface AuthSecrets {
  masterToken: string | null;
  tokenSecret: string;
}

/** Verifies a bearer token; throws the documented 401 (with the realm's challenge). */
export function authenticate(
  token: string | null,
  secrets: AuthSecrets,
  realm: string,
  now: number = Date.now(),
): Principal {
  if (token === null) throw unauthorized("PR401-AU-0001", realm);
  if (secrets.masterToken !== null && secretsEqual(token, secrets.masterToken)) return { kind: "master" };
  const check = verifyCellToken(token, secrets.tokenSecret, now);
  if (!check.ok) throw unauthorized(check.reason === "expired" ? "PR401-AU-0002" : "PR401-AU-0006", realm);
  const { claims } = check;
  return {
    kind: "cell",
    cell: claims.cell,
    sub: claims.sub,
    privileges: claims.privileges,
    scope: claims.scope === undefined ? null : claims.scope.split(" ").filter((s) => s !== ""),
  };
}

/**
 * The cell's `root` privilege (every endpoint of spec §1). A token of another cell
 * grants nothing here; a scope, when present, must itself include `root` — checked
 * before the privileges, as Personium checks the scope first.
 */
export function authorizeCellRoot(principal: Principal, cell: string): void {
  if (principal.kind === "master") return;
  if (principal.cell !== cell) throw new PersoniumError("PR403-AU-0002");
  if (principal.scope !== null && !principal.scope.includes(ROOT_PRIVILEGE)) {
    throw new PersoniumError("PR403-AU-0007", [ROOT_PRIVILEGE]);
  }
  if (!principal.privileges.includes(ROOT_PRIVILEGE)) throw new PersoniumError("PR403-AU-0002");
}

/** Unit-level APIs (`/__ctl/Cell`): the master token only. */
export function authorizeUnitMaster(principal: Principal): void {
  if (principal.kind !== "master") throw new PersoniumError("PR403-AU-0002");
}
