import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, cellToken, createTestApp, errorOf, master, type TestApp } from "../test-helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await t.createCell("c1");
});
afterAll(async () => {
  await t?.close();
});

function issue(headers: Record<string, string>, body?: string): Promise<Response> {
  return t.app.request("/__ctl/p_cookie", {
    method: "POST",
    headers,
    ...(body !== undefined ? { body } : {}),
  });
}

describe("POST /__ctl/p_cookie", () => {
  it("wraps the caller's token; the cookie then authenticates with its peer", async () => {
    const response = await issue(bearer(cellToken("c1")), JSON.stringify({ p_cookie_peer: "browser-1" }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { p_cookie: string; p_cookie_peer: string };
    expect(body.p_cookie_peer).toBe("browser-1");
    expect(response.headers.get("set-cookie")).toBe(
      `p_cookie=${body.p_cookie}; HttpOnly; SameSite=Lax; Path=/`,
    );
    const used = await t.app.request("/c1/__?p_cookie_peer=browser-1", {
      method: "PROPFIND",
      headers: { Depth: "0", Cookie: `p_cookie=${body.p_cookie}` },
    });
    expect(used.status).toBe(207);
  });

  it("chooses a random peer when none is given", async () => {
    const response = await issue(master());
    const body = (await response.json()) as { p_cookie_peer: string };
    expect(body.p_cookie_peer).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("needs a valid token", async () => {
    expect((await errorOf(await issue({}))).code).toBe("PR401-AU-0001");
    expect((await errorOf(await issue(bearer("junk")))).code).toBe("PR401-AU-0006");
  });

  it("validates the body", async () => {
    expect((await errorOf(await issue(master(), "{oops"))).code).toBe("PR400-CM-0004");
    expect((await errorOf(await issue(master(), JSON.stringify({ p_cookie_peer: "has space" })))).code).toBe(
      "PR400-CM-0002",
    );
    expect((await errorOf(await issue(master(), JSON.stringify({ p_cookie_peer: 3 })))).code).toBe(
      "PR400-CM-0002",
    );
  });
});
