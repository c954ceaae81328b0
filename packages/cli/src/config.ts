/**
 * The CLI's configuration: one zod schema over the environment and the global flags
 * (a flag wins over its variable), read once by main.ts. Nothing else in the CLI
 * reads `process.env`.
 *
 * Credentials are resolved lazily (`resolveToken`, `resolveTokenSecret`) because most
 * commands need at most one of them, and local-only commands (seed) need none.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { ConfigError, commonEnv, loadSecrets, parseEnv, secretsFile } from "@cellport/runtime";
import { z } from "zod";
import { UsageError } from "./errors.ts";

export const DEFAULT_URL = "http://localhost:8080/";

/** The global flags, as commander hands them over. */
export interface GlobalFlags {
  url?: string;
  token?: string;
  dataDir?: string;
  json?: boolean;
}

/** Which flag overrides which variable (also used to name the culprit in errors). */
const FLAG_OF: Record<string, string> = {
  CELLPORT_URL: "--url",
  CELLPORT_TOKEN: "--token",
  CELLPORT_DATA_DIR: "--data-dir",
};

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));

const schema = z.object({
  CELLPORT_URL: z
    .url({ protocol: /^https?$/, error: "expected an http(s) URL" })
    .transform((v) => (v.endsWith("/") ? v : `${v}/`))
    .default(DEFAULT_URL),
  CELLPORT_TOKEN: optionalText,
  CELLPORT_MASTER_TOKEN: optionalText,
  CELLPORT_TOKEN_SECRET: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .refine((v) => v === undefined || v.length >= 32, "expected at least 32 characters"),
  CELLPORT_DATA_DIR: commonEnv.CELLPORT_DATA_DIR,
  REDIS_URL: commonEnv.REDIS_URL,
});

export interface CliConfig {
  /** Unit base URL, always with a trailing slash. */
  url: string;
  /** Explicit token (`--token` / `CELLPORT_TOKEN`), else the master token from env. */
  token: string | undefined;
  tokenSecret: string | undefined;
  /** Absolute. */
  dataDir: string;
  redisUrl: string | undefined;
  json: boolean;
}

export function loadCliConfig(env: Record<string, string | undefined>, flags: GlobalFlags): CliConfig {
  const merged = {
    ...env,
    CELLPORT_URL: flags.url ?? env.CELLPORT_URL,
    CELLPORT_TOKEN: flags.token ?? env.CELLPORT_TOKEN,
    CELLPORT_DATA_DIR: flags.dataDir ?? env.CELLPORT_DATA_DIR,
  };
  try {
    const parsed = parseEnv(schema, merged);
    return {
      url: parsed.CELLPORT_URL,
      token: parsed.CELLPORT_TOKEN ?? parsed.CELLPORT_MASTER_TOKEN,
      tokenSecret: parsed.CELLPORT_TOKEN_SECRET,
      dataDir: resolve(parsed.CELLPORT_DATA_DIR),
      redisUrl: parsed.REDIS_URL,
      json: flags.json ?? false,
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const problems = error.problems.map((p) => {
      const variable = p.split(":")[0] ?? "";
      const flag = FLAG_OF[variable];
      return flag ? `${flag} / ${p}` : p;
    });
    throw new UsageError(`invalid configuration: ${problems.join("; ")}`);
  }
}

async function secretsFileExists(dataDir: string): Promise<boolean> {
  return stat(secretsFile(dataDir)).then(
    (s) => s.isFile(),
    () => false,
  );
}

/**
 * The bearer token for HTTP commands: `--token`, `CELLPORT_TOKEN`,
 * `CELLPORT_MASTER_TOKEN`, else the master token in the data dir's secrets.json
 * (local use). The file is only read, never created: a token made up here would be
 * one no server knows.
 */
export async function resolveToken(config: CliConfig): Promise<string> {
  if (config.token) return config.token;
  if (await secretsFileExists(config.dataDir)) {
    return (await loadSecrets({ dataDir: config.dataDir })).masterToken;
  }
  throw new UsageError(
    `no token: pass --token or set CELLPORT_TOKEN (no ${secretsFile(config.dataDir)} to read the master token from)`,
  );
}

/** The cell-token signing secret: `CELLPORT_TOKEN_SECRET`, else the data dir's secrets.json. */
export async function resolveTokenSecret(config: CliConfig): Promise<string> {
  if (config.tokenSecret) return config.tokenSecret;
  if (await secretsFileExists(config.dataDir)) {
    return (await loadSecrets({ dataDir: config.dataDir })).tokenSecret;
  }
  throw new UsageError(
    `no token secret: set CELLPORT_TOKEN_SECRET (no ${secretsFile(config.dataDir)} to read it from)`,
  );
}
