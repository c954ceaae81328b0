/** The auth matrix (spec §2.5) through HTTP, on a read endpoint (PROPFIND the box) and the unit API. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  cellToken,
  createTestApp,
  errorOf,
  MASTER_TOKEN,
  master,
  type TestApp,
  TOKEN_SECRET,
} from "../test-helpers/test-app.ts";
import { mintPCookie } from "./tokens.ts";

let t: TestApp;
const REALM = 'Bearer realm="http://localhost/c1/"';

beforeAll(async () => {
  t = await createTestApp();
  await t.createCell("c1");
  await t.createCell("c2");
});
afterAll(async () => {
  await t?.close();
});

function propfind(headers: Record<string, string> = {}, query = ""): Promise<Response> {
  return t.app.request(`/c1/__${query}`, { method: "PROPFIND", headers: { Depth: "0", ...headers } });
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

async function expectError(
  response: Response,
  status: number,
  code: string,
  message?: string,
): Promise<void> {
  expect(response.status).toBe(status);
  const body = await errorOf(response);
  expect(body.code).toBe(code);
  if (message) expect(body.message).toBe(message);
  if (status === 401) expect(response.headers.get("www-authenticate")).toBe(REALM);
  else expect(response.headers.get("www-authenticate")).toBeNull();
}

describe("bearer tokens on a cell", () => {
  it("master token and a root cell token of this cell pass", async () => {
    expect((await propfind(master())).status).toBe(207);
    expect((await propfind(bearer(cellToken("c1", ["root"])))).status).toBe(207);
    expect((await propfind(bearer(cellToken("c1", ["read", "root"], { scope: "root read" })))).status).toBe(
      207,
    );
    expect((await propfind({ Authorization: `bearer ${MASTER_TOKEN}` })).status).toBe(207);
  });

  it("no credentials: 401 PR401-AU-0001 with the cell's realm", async () => {
    await expectError(await propfind(), 401, "PR401-AU-0001", "Authorization required.");
    await expectError(await propfind({ Authorization: "" }), 401, "PR401-AU-0001");
  });

  it("expired: 401 PR401-AU-0002", async () => {
    const expired = cellToken("c1", ["root"], { ttlSeconds: 60, now: Date.now() - 120_000 });
    await expectError(await propfind(bearer(expired)), 401, "PR401-AU-0002", "Access token expired.");
  });

  it("unparsable, badly signed, alg none, unknown schemes: 401 PR401-AU-0006", async () => {
    const payload = { cell: "c1", sub: "x", privileges: ["root"], exp: Math.floor(Date.now() / 1000) + 600 };
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.`;
    const otherSecret = cellToken("c1", ["root"], { secret: "another-secret-0123456789abcdef01234" });
    for (const headers of [
      bearer("garbage"),
      bearer(`${MASTER_TOKEN}x`),
      bearer(otherSecret),
      bearer(none),
      { Authorization: "Basic dXNlcjpwYXNz" },
      { Authorization: "Bearer" },
      { Authorization: "Bearer a b" },
    ]) {
      await expectError(await propfind(headers), 401, "PR401-AU-0006", "Token parse error.");
    }
  });

  it("valid without root, or of another cell: 403 PR403-AU-0002", async () => {
    await expectError(
      await propfind(bearer(cellToken("c1", ["read"]))),
      403,
      "PR403-AU-0002",
      "Necessary privilege is lacking.",
    );
    await expectError(await propfind(bearer(cellToken("c2", ["root"]))), 403, "PR403-AU-0002");
  });

  it("a scope without root: 403 PR403-AU-0007", async () => {
    await expectError(
      await propfind(bearer(cellToken("c1", ["root"], { scope: "read write" }))),
      403,
      "PR403-AU-0007",
      "Insufficient scope is granted for the access token. [root] Privilege is required.",
    );
    await expectError(await propfind(bearer(cellToken("c1", ["root"], { scope: "" }))), 403, "PR403-AU-0007");
  });
});

describe("p_cookie", () => {
  const token = () => cellToken("c1", ["root"]);

  it("a cookie whose peer matches the query acts as its token", async () => {
    const cookie = mintPCookie({ secret: TOKEN_SECRET, token: token(), peer: "peer-1" });
    expect((await propfind({ Cookie: `other=1; p_cookie=${cookie}` }, "?p_cookie_peer=peer-1")).status).toBe(
      207,
    );
  });

  it("missing cookie, bad cookie, peer mismatch: 401 PR401-AU-0009", async () => {
    const cookie = mintPCookie({ secret: TOKEN_SECRET, token: token(), peer: "peer-1" });
    const foreign = mintPCookie({ secret: "x".repeat(40), token: token(), peer: "peer-1" });
    for (const [headers, query] of [
      [{}, "?p_cookie_peer=peer-1"],
      [{ Cookie: `p_cookie=${cookie}` }, "?p_cookie_peer=peer-2"],
      [{ Cookie: `p_cookie=${cookie}` }, "?p_cookie_peer="],
      [{ Cookie: "p_cookie=garbage" }, "?p_cookie_peer=peer-1"],
      [{ Cookie: `p_cookie=${foreign}` }, "?p_cookie_peer=peer-1"],
    ] as const) {
      await expectError(await propfind(headers, query), 401, "PR401-AU-0009", "Authentication failed.");
    }
  });

  it("is not consulted without the peer query, nor when an Authorization header is present", async () => {
    const cookie = mintPCookie({ secret: TOKEN_SECRET, token: token(), peer: "peer-1" });
    await expectError(await propfind({ Cookie: `p_cookie=${cookie}` }), 401, "PR401-AU-0001");
    await expectError(
      await propfind({ Cookie: `p_cookie=${cookie}`, Authorization: "Bearer nope" }, "?p_cookie_peer=peer-1"),
      401,
      "PR401-AU-0006",
    );
  });

  it("the wrapped token is then checked like any bearer token", async () => {
    const expired = cellToken("c1", ["root"], { ttlSeconds: 1, now: Date.now() - 10_000 });
    const readOnly = cellToken("c1", ["read"]);
    const a = mintPCookie({ secret: TOKEN_SECRET, token: expired, peer: "p" });
    const b = mintPCookie({ secret: TOKEN_SECRET, token: readOnly, peer: "p" });
    await expectError(await propfind({ Cookie: `p_cookie=${a}` }, "?p_cookie_peer=p"), 401, "PR401-AU-0002");
    await expectError(await propfind({ Cookie: `p_cookie=${b}` }, "?p_cookie_peer=p"), 403, "PR403-AU-0002");
  });
});

describe("unit-level API", () => {
  it("needs the master token; the realm is the unit URL", async () => {
    const none = await t.app.request("/__ctl/Cell");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="http://localhost/"');
    const cell = await t.app.request("/__ctl/Cell", { headers: bearer(cellToken("c1", ["root"])) });
    expect(cell.status).toBe(403);
    expect((await errorOf(cell)).code).toBe("PR403-AU-0002");
  });

  it("a disabled master token (null) matches nothing", async () => {
    const noMaster = await createTestApp({ config: { masterToken: null } });
    try {
      const response = await noMaster.app.request("/__ctl/Cell", { headers: master() });
      expect(response.status).toBe(401);
      expect((await errorOf(response)).code).toBe("PR401-AU-0006");
    } finally {
      await noMaster.close();
    }
  });
});

describe("order of checks (spec §2.6)", () => {
  it("cell 404 before auth; auth before the lock; lock before body validation", async () => {
    const unknown = await t.app.request("/nocell/__/x", { method: "PUT", body: "x" });
    expect((await errorOf(unknown)).code).toBe("PR404-DV-0003");
    await t.createCell("locked");
    await t.holdCell("locked");
    try {
      const anonymous = await t.app.request("/locked/__/x", { method: "PUT", body: "x" });
      expect(anonymous.status).toBe(401);
      const readOnly = await t.app.request("/locked/__/x", {
        method: "PUT",
        body: "x",
        headers: bearer(cellToken("locked", ["read"])),
      });
      expect(readOnly.status).toBe(403);
      const badPath = await t.app.request("/locked/__/a%2Fb", {
        method: "PUT",
        body: "x",
        headers: master(),
      });
      expect((await errorOf(badPath)).code).toBe("PR409-CM-0002");
    } finally {
      await t.releaseCell("locked");
    }
  });
});
