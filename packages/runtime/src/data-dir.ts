import { randomUUID } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Readiness probe: the data dir exists and a file can be written and removed in it. */
export async function checkDirWritable(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const probe = join(dir, `.probe-${randomUUID()}`);
  await writeFile(probe, "");
  await rm(probe, { force: true });
}
