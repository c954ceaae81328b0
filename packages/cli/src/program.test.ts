/**
 * The commands against an in-process fake api (testing/fake-api.ts): output, `--json`,
 * exit codes, one-line errors. The real processes are exercised by test/cli.test.ts.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPCookie, verifyCellToken } from "@cellport/api";
import { freePort } from "@cellport/runtime";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeApi, startFakeApi } from "./testing/fake-api.ts";
import { run } from "./testing/run.ts";

const TOKEN = "master-token-for-tests";
const lastLine = (text: string) => text.trimEnd().split("\n").at(-1);
const SECRET = "s".repeat(40);

describe("cellport commands", () => {
  let api: FakeApi;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    api = await startFakeApi({ token: TOKEN });
    dir = await mkdtemp(join(tmpdir(), "cellport-cli-test-"));
    env = {
      CELLPORT_URL: api.url,
      CELLPORT_TOKEN: TOKEN,
      CELLPORT_DATA_DIR: dir,
      CELLPORT_TOKEN_SECRET: SECRET,
    };
  });
  afterAll(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    api.cells.clear();
    api.addCell("c1");
  });

  describe("usage", () => {
    it("exits 2 with one line for a bad argument, before any request", async () => {
      const before = api.requests.length;
      const result = await run(["status", "Bad_Name"], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^cellport: command-argument value 'Bad_Name' is invalid/);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(api.requests.length).toBe(before);
    });

    it("exits 2 for an unknown command and 0 for --help", async () => {
      expect((await run(["exprot", "c1"], env)).code).toBe(2);
      const help = await run(["--help"], env);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain("Exit codes:");
    });

    it("exits 2 when no token can be found", async () => {
      const result = await run(["status", "c1"], {
        CELLPORT_URL: api.url,
        CELLPORT_DATA_DIR: join(dir, "nothing"),
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^cellport: no token: pass --token/);
    });
  });

  describe("errors from the api", () => {
    it("prints the Personium code and message and maps 404 to exit 3", async () => {
      const result = await run(["status", "nope"], env);
      expect(result).toMatchObject({ code: 3, stdout: "" });
      expect(result.stderr).toBe("cellport: PR404-DV-0003 Cell not found.\n");
    });

    it("maps a busy cell to exit 4", async () => {
      expect((await run(["export", "c1", "--name", "first"], env)).code).toBe(0);
      const result = await run(["export", "c1", "--name", "second"], env);
      expect(result.code).toBe(4);
      expect(result.stderr).toBe(
        "cellport: PR409-CM-0002 Because [cell export] is being executed, writing to cell can not be done.\n",
      );
    });

    it("exits 1 on a refused token, 1 on an unreachable api", async () => {
      expect((await run(["status", "c1", "--token", "wrong"], env)).code).toBe(1);
      const closed = await freePort();
      const down = await run(["status", "c1", "--url", `http://127.0.0.1:${closed}/`], env);
      expect(down.code).toBe(1);
      expect(down.stderr).toBe(
        `cellport: cannot reach http://127.0.0.1:${closed}/c1/__export: ECONNREFUSED\n`,
      );
    });
  });

  describe("export, status, cancel", () => {
    it("watches an export to the end and prints size and sha256", async () => {
      const result = await run(["export", "c1", "--name", "snap", "--watch", "--interval", "10ms"], env);
      expect(result.code).toBe(0);
      const entry = api.cells.get("c1")?.history[0];
      expect(result.stdout).toContain(`snapshot snap.zip`);
      expect(result.stdout).toContain(`sha256   ${entry?.sha256}`);
      expect(result.stderr).toMatch(/export c1\/snap \d+%/); // plain progress lines off a TTY
    });

    it("reports the export's default name and --json outcome", async () => {
      const result = await run(["export", "c1", "--watch", "--interval", "10ms", "--json"], env);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        cell: "c1",
        name: "c1_20240101_000000",
        outcome: "completed",
      });
    });

    it("exits 1 with the error file's code when the export fails", async () => {
      const failing = await startFakeApi({ token: TOKEN, failExports: true });
      failing.addCell("c1");
      try {
        const result = await run(
          ["export", "c1", "--name", "x", "--watch", "--interval", "10ms", "--url", failing.url],
          env,
        );
        expect(result.code).toBe(1);
        expect(lastLine(result.stderr)).toBe("cellport: export x failed: PR500-SV-0000 Unknown error.");
      } finally {
        await failing.close();
      }
    });

    it("prints both statuses, as JSON on request", async () => {
      await run(["export", "c1", "--name", "running"], env);
      const text = await run(["status", "c1"], env);
      expect(text.stdout).toMatch(/^export {2}exportation in progress 0% \(running, accepted /);
      expect(text.stdout).toContain("import  ready");
      const json = JSON.parse((await run(["status", "c1", "--json"], env)).stdout);
      expect(json).toMatchObject({
        cell: "c1",
        export: { status: "exportation in progress", exportation_name: "running" },
        import: { status: "ready" },
      });
    });

    it("cancels a running export, and exits 3 when nothing runs", async () => {
      await run(["export", "c1", "--name", "doomed"], env);
      expect(await run(["cancel", "c1"], env)).toMatchObject({
        code: 0,
        stdout: "cancelled the export of c1\n",
      });
      expect((await run(["cancel", "c1"], env)).code).toBe(3);
    });
  });

  describe("snapshots", () => {
    it("lists, downloads with a sha256 check, uploads and removes", async () => {
      await run(["export", "c1", "--name", "snap", "--watch", "--interval", "10ms"], env);
      const ls = JSON.parse((await run(["snapshots", "ls", "c1", "--json"], env)).stdout);
      expect(ls).toMatchObject([{ name: "snap.zip", contentType: "application/zip" }]);

      const out = join(dir, "snap.zip");
      const get = await run(["snapshots", "get", "c1", "snap.zip", "-o", out], env);
      expect(get.code).toBe(0);
      expect(get.stdout).toMatch(/\(verified\)/);
      const expected = api.cells.get("c1")?.snapshots.get("snap.zip")?.data;
      expect(await readFile(out)).toEqual(expected);

      const put = await run(["snapshots", "put", "c1", out, "--name", "copy.zip"], env);
      expect(put.code).toBe(0);
      expect(put.stdout).toMatch(/^created copy\.zip/);
      expect(api.cells.get("c1")?.snapshots.get("copy.zip")?.data).toEqual(expected);

      expect((await run(["snapshots", "rm", "c1", "copy.zip"], env)).code).toBe(0);
      expect((await run(["snapshots", "rm", "c1", "copy.zip"], env)).code).toBe(3);
    });

    it("resumes a partial download with Range", async () => {
      await run(["export", "c1", "--name", "big", "--watch", "--interval", "10ms"], env);
      const stored = api.cells.get("c1")?.snapshots.get("big.zip");
      if (!stored) throw new Error("no snapshot");
      const out = join(dir, "resumed.zip");
      await writeFile(`${out}.part`, stored.data.subarray(0, 100));
      await writeFile(`${out}.part.json`, JSON.stringify({ etag: stored.etag }));
      const result = await run(["snapshots", "get", "c1", "big.zip", "-o", out, "--json"], env);
      expect(result.code).toBe(0);
      const body = JSON.parse(result.stdout);
      expect(body).toMatchObject({ resumedFrom: 100, size: stored.data.length, verified: true });
      expect(body.sha256).toBe(createHash("sha256").update(stored.data).digest("hex"));
      expect(api.requests.at(-1)?.headers.range).toBe("bytes=100-");
      expect(await readFile(out)).toEqual(stored.data);
    });

    it("refuses a download whose sha256 does not match, leaving no file", async () => {
      await run(["export", "c1", "--name", "snap", "--watch", "--interval", "10ms"], env);
      const out = join(dir, "bad.zip");
      const result = await run(
        ["snapshots", "get", "c1", "snap.zip", "-o", out, "--sha256", "0".repeat(64)],
        env,
      );
      expect(result.code).toBe(1);
      expect(lastLine(result.stderr)).toMatch(/^cellport: sha256 mismatch for snap\.zip/);
      await expect(readFile(out)).rejects.toThrow();
    });
  });

  describe("cells and tokens", () => {
    it("creates, lists and removes cells", async () => {
      expect((await run(["cell", "create", "c2"], env)).code).toBe(0);
      expect((await run(["cell", "create", "c2"], env)).code).toBe(4);
      expect(
        JSON.parse((await run(["cell", "ls", "--json"], env)).stdout).map((c: { name: string }) => c.name),
      ).toEqual(["c1", "c2"]);
      expect((await run(["cell", "rm", "c2"], env)).code).toBe(0);
      expect((await run(["cell", "rm", "c2"], env)).code).toBe(3);
    });

    it("mints a cell token the api's verifier accepts", async () => {
      const result = await run(
        ["token", "c1", "--privileges", "root", "--scope", "root", "--ttl", "10m"],
        env,
      );
      expect(result.code).toBe(0);
      const check = verifyCellToken(result.stdout.trim(), SECRET);
      expect(check).toMatchObject({ ok: true, claims: { cell: "c1", privileges: ["root"], scope: "root" } });
    });

    it("mints the matching p_cookie with --peer and says how to use it", async () => {
      const result = await run(["token", "c1", "--peer", "my-peer", "--json"], env);
      const body = JSON.parse(result.stdout);
      expect(openPCookie(body.p_cookie, SECRET)).toEqual({ peer: "my-peer", token: body.token });
      const text = await run(["token", "c1", "--peer", "my-peer"], env);
      expect(text.stdout).toContain("p_cookie_peer  my-peer");
      expect(text.stdout).toMatch(
        /curl --cookie 'p_cookie=[\w-]+' '.*\/c1\/__export\?p_cookie_peer=my-peer'/,
      );
    });
  });
});
