/**
 * Parsing of human-friendly command-line values: sizes (`30MB`, `1GB`), durations
 * (`15s`, `2m`, `500ms`) and ratios. Units are binary multiples (MB = 2^20), as `du`
 * and most tools people compare us with print them.
 */
import { UsageError } from "./errors.ts";

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** `30MB` → 31457280. Accepts decimals (`1.5GB`), spaces (`30 MB`), any case. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? SIZE_UNITS[(match[2] ?? "").toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new UsageError(`Expected a size like \`30MB\`, \`1GB\` or \`512\` (bytes), got \`${text}\``);
  }
  return Math.round(Number(match[1]) * unit);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, "": 1000, m: 60_000, h: 3_600_000 };

/** `15s` → 15000 ms; a bare number means seconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|)\s*$/i.exec(text);
  const unit = match ? DURATION_UNITS[(match[2] ?? "").toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new UsageError(`Expected a duration like \`15s\`, \`2m\` or \`500ms\`, got \`${text}\``);
  }
  return Math.round(Number(match[1]) * unit);
}

/** A whole number within bounds, e.g. `--boxes 3`. */
export function parseInteger(text: string, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`Expected \`${name}\` to be a whole number from ${min} to ${max}, got \`${text}\``);
  }
  return value;
}

/** A number within bounds (rates, ratios); `50%` reads as 0.5. */
export function parseNumber(text: string, name: string, min: number, max: number): number {
  const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  const value = percent
    ? Number(percent[1]) / 100
    : /^\s*\d+(\.\d+)?\s*$/.test(text)
      ? Number(text)
      : Number.NaN;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`Expected \`${name}\` to be a number from ${min} to ${max}, got \`${text}\``);
  }
  return value;
}

/** 31457280 → `30.0 MiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** 1234 → `1.23 s`, 95 → `95 ms`, 125000 → `2m05s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes}m${String(seconds).padStart(2, "0")}s`;
}
