import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_URL, loadCliConfig, resolveToken, resolveTokenSecret } from "./config.ts";
import { UsageError } from "./errors.ts";

describe("loadCliConfig", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "cellport-cli-config-"));
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("has defaults", () => {
    const config = loadCliConfig({}, {});
    expect(config.url).toBe(DEFAULT_URL);
    expect(config.token).toBeUndefined();
    expect(config.dataDir).toMatch(/\.data$/);
    expect(config.json).toBe(false);
  });

  it("lets a flag win over its variable and adds the trailing slash", () => {
    const config = loadCliConfig(
      { CELLPORT_URL: "http://env:1", CELLPORT_TOKEN: "env-token" },
      { url: "http://127.0.0.1:9000", token: "flag-token", json: true },
    );
    expect(config).toMatchObject({ url: "http://127.0.0.1:9000/", token: "flag-token", json: true });
  });

  it("names the flag and the variable of a bad value, as a usage error", () => {
    expect(() => loadCliConfig({}, { url: "ftp://x" })).toThrow(UsageError);
    expect(() => loadCliConfig({}, { url: "ftp://x" })).toThrow(
      /--url \/ CELLPORT_URL: expected an http\(s\) URL/,
    );
    expect(() => loadCliConfig({ CELLPORT_TOKEN_SECRET: "short" }, {})).toThrow(/CELLPORT_TOKEN_SECRET/);
  });

  it("reads the master token and the secret from the data dir, never creating the file", async () => {
    const empty = loadCliConfig({ CELLPORT_DATA_DIR: join(dataDir, "none") }, {});
    await expect(resolveToken(empty)).rejects.toThrow(/no token: pass --token/);
    await expect(resolveTokenSecret(empty)).rejects.toThrow(/CELLPORT_TOKEN_SECRET/);

    await writeFile(
      join(dataDir, "secrets.json"),
      JSON.stringify({ masterToken: "m".repeat(20), tokenSecret: "s".repeat(40) }),
    );
    const local = loadCliConfig({ CELLPORT_DATA_DIR: dataDir }, {});
    expect(await resolveToken(local)).toBe("m".repeat(20));
    expect(await resolveTokenSecret(local)).toBe("s".repeat(40));
    expect(await resolveToken(loadCliConfig({ CELLPORT_DATA_DIR: dataDir }, { token: "given" }))).toBe(
      "given",
    );
    expect(await resolveToken(loadCliConfig({ CELLPORT_MASTER_TOKEN: "from-env" }, {}))).toBe("from-env");
  });
});
