/** The queue dashboard at /admin/queues, in-process, on the app's own queue in real Redis. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DASHBOARD_CHALLENGE, dashboardTokenOf } from "../auth/dashboard-access.ts";
import {
  bearer,
  cellToken,
  createTestApp,
  errorOf,
  MASTER_TOKEN,
  master,
  type TestApp,
} from "../test-helpers/test-app.ts";
import { DASHBOARD_PATH } from "./queue-dashboard.ts";

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ queueDashboard: { readOnly: true } });
  await t.createCell("q1");
});

afterAll(async () => {
  await t?.close();
});

function basic(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` };
}

const browser = () => basic("admin", MASTER_TOKEN);

describe("dashboard access", () => {
  it("asks a browser for credentials: 401 with a Basic challenge", async () => {
    for (const headers of [
      {},
      basic("admin", "wrong"),
      { Authorization: "Basic !!!" },
      { Authorization: "Digest x" },
    ]) {
      const response = await t.app.request(DASHBOARD_PATH, { headers });
      expect(response.status, JSON.stringify(headers)).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe(DASHBOARD_CHALLENGE);
    }
    // Everything under the path is guarded the same way: assets and the UI's API.
    expect((await t.app.request(`${DASHBOARD_PATH}/api/queues`)).status).toBe(401);
    expect((await t.app.request(`${DASHBOARD_PATH}/static/favicon.ico`)).status).toBe(401);
  });

  it("refuses a valid cell token (403): the dashboard is the unit's", async () => {
    const token = cellToken("q1");
    for (const headers of [bearer(token), basic("admin", token)]) {
      const response = await t.app.request(DASHBOARD_PATH, { headers });
      expect(response.status).toBe(403);
      expect((await errorOf(response)).code).toBe("PR403-AU-0002");
    }
  });

  it("lets in the master token, as a Bearer token or as the Basic password (any user name)", async () => {
    for (const headers of [master(), browser(), basic("", MASTER_TOKEN)]) {
      const response = await t.app.request(DASHBOARD_PATH, { headers });
      expect(response.status, JSON.stringify(headers)).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    }
  });

  it("reads the token out of the Authorization header", () => {
    expect(dashboardTokenOf(undefined, "r")).toBeNull();
    expect(dashboardTokenOf("  ", "r")).toBeNull();
    expect(dashboardTokenOf("Bearer abc", "r")).toBe("abc");
    expect(dashboardTokenOf(basic("u", "p:with:colons").Authorization, "r")).toBe("p:with:colons");
    expect(() => dashboardTokenOf(basic("u", "").Authorization, "r")).toThrow();
    expect(() => dashboardTokenOf("Basic bm9jb2xvbg==", "r")).toThrow();
  });
});

describe("the dashboard", () => {
  it("is a page whose every asset is served by this app: no CDN, no external font", async () => {
    const html = await (await t.app.request(DASHBOARD_PATH, { headers: browser() })).text();
    expect(html).toContain(`<base href="${DASHBOARD_PATH}/" />`);
    const urls = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map(([, url]) => url ?? "");
    expect(urls.length).toBeGreaterThan(3);
    for (const url of urls) {
      expect(url, url).not.toMatch(/^(?:[a-z]+:)?\/\//i);
      if (url === `${DASHBOARD_PATH}/`) continue;
      const asset = await t.app.request(`${DASHBOARD_PATH}/${url}`, { headers: browser() });
      expect(asset.status, url).toBe(200);
      await asset.arrayBuffer();
    }
    expect(html).not.toContain("googleapis");
  });

  it("shows the cell-jobs queue and its jobs through its API", async () => {
    await t.holdCell("q1");
    try {
      const response = await t.app.request(
        `${DASHBOARD_PATH}/api/queues?activeQueue=cell-jobs&status=waiting`,
        {
          headers: browser(),
        },
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        queues: Array<{
          name: string;
          readOnlyMode: boolean;
          counts: Record<string, number>;
          jobs: Array<{ data: unknown }>;
        }>;
      };
      const [queue] = body.queues;
      expect(queue?.name).toBe("cell-jobs");
      expect(queue?.readOnlyMode).toBe(true);
      expect(queue?.counts.waiting).toBe(1);
      expect(queue?.jobs[0]?.data).toMatchObject({ kind: "export", cell: "q1" });
    } finally {
      await t.releaseCell("q1");
    }
  });

  it("refuses actions in read-only mode", async () => {
    const pause = await t.app.request(`${DASHBOARD_PATH}/api/queues/cell-jobs/pause`, {
      method: "PUT",
      headers: browser(),
    });
    expect(pause.status).toBe(405);
    const after = (await (
      await t.app.request(`${DASHBOARD_PATH}/api/queues?activeQueue=cell-jobs`, { headers: browser() })
    ).json()) as { queues: Array<{ isPaused: boolean }> };
    expect(after.queues[0]?.isPaused).toBe(false);
  });

  it("is absent when the app has no dashboard source", async () => {
    const plain = await createTestApp();
    try {
      const response = await plain.app.request(DASHBOARD_PATH, { headers: master() });
      expect(response.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
