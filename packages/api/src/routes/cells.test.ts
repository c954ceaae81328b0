import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, errorOf, master, type TestApp } from "../test-helpers/test-app.ts";

let t: TestApp;
const forgotten: string[] = [];

beforeAll(async () => {
  t = await createTestApp({
    config: { maxJsonBytes: 2048 },
    override: (deps) => ({
      ...deps,
      jobs: {
        ...deps.jobs,
        forgetCell: async (cell) => {
          forgotten.push(cell);
          await deps.jobs.forgetCell(cell);
        },
      },
    }),
  });
});
afterAll(async () => {
  await t?.close();
});

function create(body: string | undefined, headers: Record<string, string> = {}): Promise<Response> {
  return t.app.request("/__ctl/Cell", {
    method: "POST",
    headers: { ...master(), ...headers },
    ...(body !== undefined ? { body } : {}),
  });
}

describe("POST /__ctl/Cell", () => {
  it("creates a cell: 201, Location, ETag, Personium's OData shape", async () => {
    const before = Date.now();
    const response = await create(JSON.stringify({ Name: "alpha", Other: 1 }), {
      "Content-Type": "text/plain;charset=UTF-8",
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("location")).toBe("http://localhost/__ctl/Cell('alpha')");
    expect(response.headers.get("etag")).toMatch(/^W\/"1-\d+"$/);
    const body = (await response.json()) as { d: { results: Record<string, unknown> } };
    expect(body.d.results).toMatchObject({
      Name: "alpha",
      __metadata: { uri: "http://localhost/__ctl/Cell('alpha')", type: "UnitCtl.Cell" },
    });
    const published = Number(/^\/Date\((\d+)\)\/$/.exec(String(body.d.results.__published))?.[1]);
    expect(published).toBeGreaterThanOrEqual(before - 1000);
    expect(body.d.results.__updated).toMatch(/^\/Date\(\d+\)\/$/);
    expect(await t.deps.store.getCell("alpha")).not.toBeNull();
  });

  it("duplicate: 409 PR409-OD-0003", async () => {
    await create(JSON.stringify({ Name: "dup" }));
    const response = await create(JSON.stringify({ Name: "dup" }));
    expect(response.status).toBe(409);
    expect(await errorOf(response)).toEqual({ code: "PR409-OD-0003", message: "The entity already exists." });
  });

  it("bad names: 400 PR400-OD-0006 with the cell name rule", async () => {
    for (const name of ["Upper", "-dash", "a_b", "a.b", "", "a".repeat(129), 5, true, { x: 1 }]) {
      const response = await create(JSON.stringify({ Name: name }));
      expect(response.status, String(name)).toBe(400);
      expect(await errorOf(response)).toEqual({
        code: "PR400-OD-0006",
        message: "Field [Name] format error. Must be [^[a-z0-9][a-z0-9-]{0,127}$].",
      });
    }
    expect((await create(JSON.stringify({ Name: "a".repeat(128) }))).status).toBe(201);
  });

  it("missing Name: 400 PR400-CM-0001", async () => {
    for (const body of [undefined, "", "  ", "{}", '{"Name":null}', "[]", '"c1"']) {
      const response = await create(body);
      expect(response.status, String(body)).toBe(400);
      expect(await errorOf(response)).toEqual({
        code: "PR400-CM-0001",
        message: "Required key [Name] missing.",
      });
    }
  });

  it("not JSON: 400 PR400-CM-0004 quoting the body", async () => {
    const response = await create("{Name: c1");
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toEqual({
      code: "PR400-CM-0004",
      message: "JSON parse error. [{Name: c1].",
    });
  });

  it("oversized body: 413 PR413-DV-0001", async () => {
    const response = await create(JSON.stringify({ Name: "big", pad: "x".repeat(4096) }));
    expect(response.status).toBe(413);
    expect((await errorOf(response)).code).toBe("PR413-DV-0001");
  });
});

describe("GET /__ctl/Cell and /__ctl/Cell('…')", () => {
  it("lists cells and reads one, in both key spellings", async () => {
    await create(JSON.stringify({ Name: "beta" }));
    const list = await t.app.request("/__ctl/Cell", { headers: master() });
    const names = ((await list.json()) as { d: { results: Array<{ Name: string }> } }).d.results.map(
      (r) => r.Name,
    );
    expect(names).toContain("beta");
    expect(names).toEqual([...names].sort());
    for (const path of ["/__ctl/Cell('beta')", "/__ctl/Cell(%27beta%27)", "/__ctl/Cell(Name='beta')"]) {
      const one = await t.app.request(path, { headers: master() });
      expect(one.status, path).toBe(200);
      expect(((await one.json()) as { d: { results: { Name: string } } }).d.results.Name).toBe("beta");
    }
  });

  it("unknown or malformed keys: 404 PR404-DV-0003", async () => {
    for (const path of [
      "/__ctl/Cell('nope')",
      "/__ctl/Cell('BAD')",
      "/__ctl/Cell(beta)",
      "/__ctl/Cell('')",
    ]) {
      const response = await t.app.request(path, { headers: master() });
      expect(response.status, path).toBe(404);
      expect((await errorOf(response)).code).toBe("PR404-DV-0003");
    }
  });
});

describe("DELETE /__ctl/Cell('…')", () => {
  it("deletes the cell with its data and forgets its jobs", async () => {
    await create(JSON.stringify({ Name: "gone" }));
    await t.app.request("/gone/__/f.txt", { method: "PUT", headers: master(), body: "x" });
    const response = await t.app.request("/__ctl/Cell('gone')", { method: "DELETE", headers: master() });
    expect(response.status).toBe(204);
    expect(forgotten).toContain("gone");
    expect((await t.app.request("/__ctl/Cell('gone')", { headers: master() })).status).toBe(404);
    expect((await t.app.request("/gone/__/f.txt", { headers: master() })).status).toBe(404);
    const again = await t.app.request("/__ctl/Cell('gone')", { method: "DELETE", headers: master() });
    expect(again.status).toBe(404);
  });

  it("is refused while an export or import holds the cell", async () => {
    await create(JSON.stringify({ Name: "busy" }));
    for (const [kind, label] of [
      ["export", "cell export"],
      ["import", "cell import"],
    ] as const) {
      await t.holdCell("busy", kind);
      try {
        const response = await t.app.request("/__ctl/Cell('busy')", { method: "DELETE", headers: master() });
        expect(response.status).toBe(409);
        expect(await errorOf(response)).toEqual({
          code: "PR409-CM-0002",
          message: `Because [${label}] is being executed, writing to cell can not be done.`,
        });
      } finally {
        await t.releaseCell("busy", kind);
      }
    }
    expect((await t.app.request("/__ctl/Cell('busy')", { method: "DELETE", headers: master() })).status).toBe(
      204,
    );
  });
});
