import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSecrets, secretsFile } from "./secrets.ts";

describe("loadSecrets", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "cellport-secrets-"));
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("prefers the environment", async () => {
    const secrets = await loadSecrets({ dataDir, masterToken: "m".repeat(20), tokenSecret: "s".repeat(40) });
    expect(secrets).toEqual({ masterToken: "m".repeat(20), tokenSecret: "s".repeat(40), generated: [] });
  });

  it("creates the values once, privately, and every concurrent caller gets the same", async () => {
    const all = await Promise.all(Array.from({ length: 8 }, () => loadSecrets({ dataDir })));
    const [first] = all;
    expect(first?.masterToken.length).toBeGreaterThan(20);
    for (const s of all) expect(s).toEqual(first);
    expect((await stat(secretsFile(dataDir))).mode & 0o777).toBe(0o600);
  });
});
