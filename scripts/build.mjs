#!/usr/bin/env node
// Bundles each process into one plain-JS file (`packages/<name>/dist/main.mjs`) so
// production runs `node` alone: no TypeScript loader in the process (about 45 MB of
// RSS and a hooks thread less per process). The output sits inside its package so
// runtime lookups of package files (bull-board's UI, Scalar's bundle) resolve
// through that package's node_modules. `--if-stale` builds only when a source file
// is newer than the bundle.
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BUNDLES = {
  api: { entry: "packages/api/src/main.ts", outfile: "packages/api/dist/main.mjs" },
  worker: { entry: "packages/worker/src/main.ts", outfile: "packages/worker/dist/main.mjs" },
};
// Worker-thread scripts, built next to each bundle: the code that starts one finds it
// beside its own file (`new URL("./<name>.mjs", import.meta.url)`).
const THREADS = { "store-thread-body": "packages/store/src/store-thread-body.ts" };

async function newestSourceMtime(dir) {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSourceMtime(path));
    else if (/\.(ts|json)$/.test(entry.name)) newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

/** Every file a build writes (besides source maps). */
function outputs() {
  return Object.values(BUNDLES).flatMap(({ outfile }) => [
    outfile,
    ...Object.keys(THREADS).map((name) => join(dirname(outfile), `${name}.mjs`)),
  ]);
}

async function isStale() {
  const sources = Math.max(
    await newestSourceMtime(join(root, "packages")),
    (await stat(join(root, "pnpm-lock.yaml"))).mtimeMs,
  );
  for (const file of outputs()) {
    const built = await stat(join(root, file)).catch(() => null);
    if (!built || built.mtimeMs < sources) return true;
  }
  return false;
}

export async function build({ ifStale = false, quiet = false } = {}) {
  if (ifStale && !(await isStale())) return false;
  const esbuild = await import("esbuild");
  await Promise.all(
    Object.values(BUNDLES).map(({ entry, outfile }) =>
      esbuild.build({
        entryPoints: {
          [basename(outfile, ".mjs")]: join(root, entry),
          ...Object.fromEntries(Object.entries(THREADS).map(([name, source]) => [name, join(root, source)])),
        },
        outdir: join(root, dirname(outfile)),
        outExtension: { ".js": ".mjs" },
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        sourcemap: "linked",
        logLevel: "warning",
        // Bundled CommonJS dependencies call `require`: give the ESM bundle one.
        banner: {
          js: "import { createRequire as __cellportCreateRequire } from 'node:module'; const require = __cellportCreateRequire(import.meta.url);",
        },
      }),
    ),
  );
  if (!quiet)
    console.error(
      `cellport: built ${Object.values(BUNDLES)
        .map((b) => b.outfile)
        .join(", ")}`,
    );
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build({ ifStale: process.argv.includes("--if-stale"), quiet: process.argv.includes("--quiet") });
}
