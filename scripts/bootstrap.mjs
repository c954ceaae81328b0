#!/usr/bin/env node
// Makes `npm start` / `npm test` work on a fresh clone that has only Node and npm:
// installs the workspace with the pinned pnpm when node_modules is missing or older
// than the lockfile, then (re)builds the process bundles when a source changed.
// corepack fails on our machines (no registry signatures), so the pinned pnpm comes
// through `npx --yes pnpm@<version>`; an installed pnpm of the same version is used
// directly.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
const pnpmVersion = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split("@")[1];
const marker = join(root, "node_modules", ".modules.yaml");
const lockfile = join(root, "pnpm-lock.yaml");

function installedPnpmMatches() {
  try {
    const version = execFileSync("pnpm", ["--version"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return version.trim() === pnpmVersion;
  } catch {
    return false;
  }
}

function install() {
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
}

const installed =
  existsSync(marker) && (!existsSync(lockfile) || statSync(marker).mtimeMs >= statSync(lockfile).mtimeMs);
if (!installed) install();

// The api and worker run as bundles (scripts/build.mjs): rebuild them when a source changed.
const { build } = await import("./build.mjs");
await build({ ifStale: true, quiet });
