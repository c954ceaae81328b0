/**
 * The unit master token and the token-signing secret. Production sets both through
 * the environment. When one is unset, a random value is created once and kept in
 * `{dataDir}/secrets.json` (mode 0600), so the quick start needs no setup and every
 * process and CLI on the same data dir agrees on it.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";

export interface Secrets {
  masterToken: string;
  tokenSecret: string;
  /** Which values came from the data dir rather than the environment. */
  generated: Array<"masterToken" | "tokenSecret">;
}

function isSecretsFile(value: unknown): value is { masterToken: string; tokenSecret: string } {
  const v = value as Record<string, unknown> | null;
  return typeof v?.masterToken === "string" && typeof v?.tokenSecret === "string";
}

async function readSecretsFile(file: string): Promise<{ masterToken: string; tokenSecret: string } | null> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
    return isSecretsFile(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

export function secretsFile(dataDir: string): string {
  return join(resolve(dataDir), "secrets.json");
}

export async function loadSecrets(options: {
  dataDir: string;
  masterToken?: string | undefined;
  tokenSecret?: string | undefined;
}): Promise<Secrets> {
  const generated: Secrets["generated"] = [];
  if (!options.masterToken) generated.push("masterToken");
  if (!options.tokenSecret) generated.push("tokenSecret");
  if (generated.length === 0) {
    return { masterToken: options.masterToken ?? "", tokenSecret: options.tokenSecret ?? "", generated };
  }

  const file = secretsFile(options.dataDir);
  let stored = await readSecretsFile(file);
  if (!stored) {
    const fresh = {
      masterToken: randomBytes(24).toString("base64url"),
      tokenSecret: randomBytes(32).toString("base64url"),
    };
    await mkdir(dirname(file), { recursive: true });
    // `wx`: when two processes start at once, exactly one writes; the other reads its file.
    await writeFile(file, JSON.stringify(fresh), { flag: "wx", mode: 0o600 }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code !== "EEXIST") throw error;
      },
    );
    stored = await readSecretsFile(file);
    if (!stored) throw new Error(`could not read ${file}`);
  }
  return {
    masterToken: options.masterToken || stored.masterToken,
    tokenSecret: options.tokenSecret || stored.tokenSecret,
    generated,
  };
}
