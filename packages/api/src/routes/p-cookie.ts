/**
 * Obtaining a p_cookie (spec §2.5 "cellport must offer a way to obtain such a cookie"):
 *
 *   POST /__ctl/p_cookie
 *   Authorization: Bearer {token}            (master or cell token; it must verify)
 *   {"p_cookie_peer": "my-peer"}             (optional: a random peer is chosen when absent)
 *   → 200 {"p_cookie": "...", "p_cookie_peer": "my-peer"}
 *     Set-Cookie: p_cookie=...; HttpOnly; SameSite=Lax; Path=/
 *
 * Afterwards `GET {CellURL}__export?p_cookie_peer=my-peer` with `Cookie: p_cookie=...`
 * (and no Authorization header) acts as that token. The CLI mints the same cookie
 * offline with `mintPCookie` from `auth/tokens.ts`.
 */
import { randomUUID } from "node:crypto";
import { PersoniumError } from "@cellport/shared";
import { Hono } from "hono";
import { z } from "zod";
import { credentialSourceOf, P_COOKIE, P_COOKIE_PEER, readBearerToken } from "../auth/credentials.ts";
import { requireAnyToken } from "../auth/middleware.ts";
import { mintPCookie } from "../auth/tokens.ts";
import type { AppDeps } from "../deps.ts";
import { named } from "../http/api-doc.ts";
import type { AppEnv } from "../http/env.ts";
import { bodyOf, jsonBody } from "../http/json-body.ts";
import { defineResource } from "../http/resource.ts";

/** A peer travels in a query string: printable ASCII, bounded. */
const PEER_RULE = /^[\x21-\x7e]{1,256}$/;
const PEER_RULE_TEXT = "^[\\x21-\\x7E]{1,256}$";

/** The body is optional, and anything but an object reads as no body. */
export const pCookieBody = jsonBody({
  schema: named(
    "PCookieRequest",
    z.object({
      [P_COOKIE_PEER]: z
        .string()
        .regex(PEER_RULE)
        .nullish()
        .meta({ description: "The peer the cookie is bound to; a random one when absent" }),
    }),
  ),
  fieldErrors: { [P_COOKIE_PEER]: { invalid: ["PR400-CM-0002", [P_COOKIE_PEER, PEER_RULE_TEXT]] } },
  whenAbsent: "empty-object",
  whenNotObject: "empty-object",
});

export function createPCookieRoutes(deps: AppDeps): Hono<AppEnv> {
  const router = new Hono<AppEnv>();
  defineResource(
    router,
    "/p_cookie",
    {
      POST: {
        summary: "Issue a p_cookie for the caller's token",
        description:
          "Afterwards, a request with `Cookie: p_cookie=…`, the query `p_cookie_peer=…` and no `Authorization` " +
          "header acts as that token.",
        body: pCookieBody,
        responses: {
          200: {
            description: "The cookie (also set with `Set-Cookie`, HttpOnly) and its peer",
            json: z.object({ [P_COOKIE]: z.string(), [P_COOKIE_PEER]: z.string() }),
            headers: { "Set-Cookie": "`p_cookie=…; HttpOnly; SameSite=Lax; Path=/`" },
          },
        },
        handler: async function issuePCookie(c) {
          const peer = bodyOf(c, pCookieBody)[P_COOKIE_PEER] ?? randomUUID();
          // requireAnyToken verified the token; read it again here rather than keeping a
          // token in context variables, where it could end up in a log.
          const token = readBearerToken(credentialSourceOf(c.req.raw), {
            secret: deps.config.tokenSecret,
            realm: `${c.get("baseUrl")}/`,
          });
          if (token === null) throw new PersoniumError("PR401-AU-0001");
          const cookie = mintPCookie({ secret: deps.config.tokenSecret, token, peer });
          const secure = c.get("baseUrl").startsWith("https:") ? "; Secure" : "";
          c.header("Set-Cookie", `${P_COOKIE}=${cookie}; HttpOnly; SameSite=Lax; Path=/${secure}`);
          c.header("Cache-Control", "no-store");
          return c.json({ [P_COOKIE]: cookie, [P_COOKIE_PEER]: peer });
        },
      },
    },
    {
      guard: [requireAnyToken(deps)],
      doc: { tag: "auth", access: "any-token" },
      maxJsonBytes: deps.config.maxJsonBytes,
    },
  );
  return router;
}
