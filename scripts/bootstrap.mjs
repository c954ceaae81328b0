#!/usr/bin/env node
// Makes `npm start` / `npm test` work on a fresh clone that has only Node and npm:
// installs the workspace with the pinned pnpm when node_modules is missing or older
// than the lockfile. corepack fails on our machines (no registry signatures), so the
// pinned pnpm comes through `npx --yes pnpm@<version>`; an installed pnpm of the
// same version is used directly.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
const pnpmVersion = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split("@")[1];

const marker = join(root, "node_modules", ".modules.yaml");
const lockfile = join(root, "pnpm-lock.yaml");
const upToDate =
  existsSync(marker) && (!existsSync(lockfile) || statSync(marker).mtimeMs >= statSync(lockfile).mtimeMs);
if (upToDate) process.exit(0);

function installedPnpmMatches() {
  try {
    return (
      execFileSync("pnpm", ["--version"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim() === pnpmVersion
    );
  } catch {
    return false;
  }
}

const args = ["install", ...(existsSync(lockfile) ? ["--frozen-lockfile"] : [])];
const [cmd, cmdArgs] = installedPnpmMatches()
  ? ["pnpm", args]
  : ["npx", ["--yes", `pnpm@${pnpmVersion}`, ...args]];
if (!quiet) console.error(`cellport: installing dependencies (${cmd} ${cmdArgs.join(" ")})`);
const result = spawnSync(cmd, cmdArgs, {
  cwd: root,
  stdio: quiet ? ["ignore", "ignore", "inherit"] : "inherit",
});
if (result.status !== 0) {
  console.error("cellport: dependency install failed; see the output above.");
  process.exit(result.status ?? 1);
}
