import { describe, expect, it } from "vitest";
import { createTestApp, errorOf } from "../test-helpers/test-app.ts";

describe("probes", () => {
  it("liveness and readiness, unauthenticated", async () => {
    let healthy = true;
    const t = await createTestApp({
      readiness: [
        { name: "redis", check: async () => {} },
        {
          name: "data dir",
          check: async () => {
            if (!healthy) throw new Error("read-only file system");
          },
        },
      ],
    });
    try {
      expect(await (await t.app.request("/healthz")).json()).toEqual({ status: "ok" });
      const ready = await t.app.request("/readyz");
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ready", checks: { redis: "ok", "data dir": "ok" } });
      healthy = false;
      const unready = await t.app.request("/readyz");
      expect(unready.status).toBe(503);
      expect(await errorOf(unready)).toEqual({
        code: "PR503-SV-9001",
        message: "Service unavailable: data dir.",
      });
      expect(t.logLines.join("")).toContain("read-only file system");
    } finally {
      await t.close();
    }
  });
});
