/**
 * The status shortcut answers exactly as the router would: the same requests sent to
 * an app whose job backend never reports a cached job (so everything is routed) get
 * the same status, headers and body.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../app.ts";
import { mintCellToken } from "../auth/tokens.ts";
import { createTestApp, MASTER_TOKEN, type TestApp, TOKEN_SECRET } from "../test-helpers/test-app.ts";

let t: TestApp;
let routedOnly: ReturnType<typeof createApp>;

const token = (cell: string, privileges: string[]) =>
  mintCellToken({ cell, privileges, ttlSeconds: 600, secret: TOKEN_SECRET });

beforeAll(async () => {
  t = await createTestApp();
  routedOnly = createApp({ ...t.deps, jobs: { ...t.deps.jobs, holdsJob: () => false } });
  await t.createCell("s1");
  await t.createCell("s2");
  await t.holdCell("s1");
  await t.app.request("/s1/__export", { headers: { Authorization: `Bearer ${MASTER_TOKEN}` } });
  // The end-of-job subscription comes up asynchronously; from then on s1's job is cached.
  for (let i = 0; i < 100 && !t.deps.jobs.holdsJob("s1"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    await t.app.request("/s1/__export", { headers: { Authorization: `Bearer ${MASTER_TOKEN}` } });
  }
  if (!t.deps.jobs.holdsJob("s1")) throw new Error("s1's job never got cached");
});

afterAll(async () => {
  await t?.close();
});

async function snapshot(response: Response) {
  const headers = Object.fromEntries(
    [...response.headers].filter(([name]) => name.toLowerCase() !== "x-personium-requestkey"),
  );
  return { status: response.status, headers, body: await response.text() };
}

const cases: Array<[string, string, Record<string, string>]> = [
  ["master token", "/s1/__export", { Authorization: `Bearer ${MASTER_TOKEN}` }],
  ["cell token with root", "/s1/__export", { Authorization: `Bearer ${token("s1", ["root"])}` }],
  ["cell token without root", "/s1/__export", { Authorization: `Bearer ${token("s1", ["read"])}` }],
  ["another cell's token", "/s1/__export", { Authorization: `Bearer ${token("s2", ["root"])}` }],
  ["no credentials", "/s1/__export", {}],
  ["a malformed Authorization", "/s1/__export", { Authorization: "Basic abc" }],
  ["a wrong token", "/s1/__export", { Authorization: "Bearer not-a-token" }],
  ["a query string", "/s1/__export?x=1", { Authorization: `Bearer ${MASTER_TOKEN}` }],
  [
    "a given request key",
    "/s1/__export",
    { Authorization: `Bearer ${MASTER_TOKEN}`, "X-Personium-RequestKey": "rk" },
  ],
];

describe("status shortcut", () => {
  it.each(cases)("answers as the router does: %s", async (_label, path, headers) => {
    const shortcut = await snapshot(await t.app.request(path, { headers }));
    const routed = await snapshot(await routedOnly.request(path, { headers }));
    expect(shortcut).toEqual(routed);
  });

  it("is taken only for a cell with a cached job in progress", async () => {
    const master = { Authorization: `Bearer ${MASTER_TOKEN}` };
    expect(await (await t.app.request("/s1/__export", { headers: master })).json()).toMatchObject({
      status: "exportation in progress",
      exportation_name: "s1_held",
    });
    expect(await (await t.app.request("/s2/__export", { headers: master })).json()).toEqual({
      status: "ready",
    });
    expect(t.deps.jobs.holdsJob("s2")).toBe(false);
  });

  it("labels its requests with the router's route pattern", async () => {
    await t.app.request("/s1/__export", { headers: { Authorization: `Bearer ${MASTER_TOKEN}` } });
    const text = await (await t.app.request("/metrics")).text();
    expect(text).toContain(
      'cellport_http_request_duration_seconds_count{method="GET",route="/:cell/__export",status="200"}',
    );
  });
});
