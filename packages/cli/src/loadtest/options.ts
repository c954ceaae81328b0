/**
 * The load test's settings, validated as a whole (flags that only make sense
 * together), and the loopback rule: a load test is a weapon, so it targets this
 * machine unless `--allow-remote` says otherwise.
 */
import { UsageError } from "../errors.ts";
import type { SeedProfile } from "../seed-profiles.ts";

export const MIX_KINDS = ["download", "import", "write", "duplicate"] as const;
export type MixKind = (typeof MIX_KINDS)[number];

export interface LoadtestOptions {
  url: string;
  durationMs: number;
  maxExports: number;
  /** Closed model: this many exports in flight at all times. */
  concurrency?: number | undefined;
  /** Open model: exports started per second, whatever is in flight. */
  rate?: number | undefined;
  /** Existing cells to use; otherwise `create` cells are seeded from `profile`. */
  cells?: string[] | undefined;
  create: number;
  profile: SeedProfile;
  pollers: number;
  pollIntervalMs: number;
  drainTimeoutMs: number;
  mix: MixKind[];
  verify: boolean;
  keep: boolean;
  allowRemote: boolean;
  seed: number;
}

const LOOPBACK_HOSTS = new Set(["localhost", "::1", "[::1]"]);

export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (LOOPBACK_HOSTS.has(host) || host.endsWith(".localhost")) return true;
  // The whole 127.0.0.0/8 block is loopback.
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function parseMix(text: string): MixKind[] {
  if (text === "none" || text === "") return [];
  if (text === "all") return [...MIX_KINDS];
  const kinds = text.split(",").map((s) => s.trim());
  for (const kind of kinds) {
    if (!(MIX_KINDS as readonly string[]).includes(kind)) {
      throw new UsageError(`Expected --mix to list ${MIX_KINDS.join(", ")} (or all/none), got \`${kind}\``);
    }
  }
  return [...new Set(kinds)] as MixKind[];
}

/** Cross-flag rules; returns the options with the model defaulted (closed, concurrency 2). */
export function validateLoadtestOptions(options: LoadtestOptions): LoadtestOptions {
  if (!options.allowRemote && !isLoopbackUrl(options.url)) {
    throw new UsageError(
      `refusing to load-test ${options.url}: not a loopback address (pass --allow-remote if you mean it)`,
    );
  }
  if (options.concurrency !== undefined && options.rate !== undefined) {
    throw new UsageError("Expected either --concurrency (closed model) or --rate (open model), not both");
  }
  const resolved = { ...options };
  if (resolved.concurrency === undefined && resolved.rate === undefined) resolved.concurrency = 2;
  const cellCount = resolved.cells?.length ?? resolved.create;
  if (cellCount < 1) throw new UsageError("Expected at least one cell (--cells a,b or --create N)");
  if (resolved.concurrency !== undefined && resolved.concurrency > cellCount) {
    // One export per cell at a time (spec §3.1): more would only collect 409s.
    throw new UsageError(
      `Expected --concurrency (${resolved.concurrency}) to be at most the number of cells (${cellCount})`,
    );
  }
  return resolved;
}
