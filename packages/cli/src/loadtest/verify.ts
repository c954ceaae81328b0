/**
 * Verifies a downloaded snapshot the way an importer would read it: the snapshot
 * package's reader (yauzl) checks the manifest and its version, the required entries,
 * every entry's name and size, and — reading every byte — each entry's CRC-32 and
 * every pjson line. On top: the sha256 and the entry count we expect.
 */

import { PersoniumError } from "@cellport/shared";
import { readSnapshot } from "@cellport/snapshot";

export interface SnapshotExpectations {
  sha256?: string | undefined;
  /** Zip entries including the manifest (and directory entries). */
  entries?: number | null | undefined;
}

export interface VerifyResult {
  ok: boolean;
  problems: string[];
  entries: number;
  documents: number;
  files: number;
}

export async function verifySnapshot(
  path: string,
  actualSha256: string,
  expected: SnapshotExpectations,
  signal?: AbortSignal,
): Promise<VerifyResult> {
  const problems: string[] = [];
  if (expected.sha256 && expected.sha256 !== actualSha256) {
    problems.push(`sha256 ${actualSha256} but the server reported ${expected.sha256}`);
  }
  let entries = 0;
  let documents = 0;
  let files = 0;
  try {
    for await (const item of readSnapshot(path, signal ? { signal } : {})) {
      if (item.kind === "manifest") entries = item.entryCount;
      else if (item.kind === "entities") for await (const _ of item.documents) documents++;
      else if (item.kind === "tree-content") {
        files++;
        for await (const _ of item.body) {
          // reading is the check: sizes and CRC-32 are verified as bytes flow
        }
      }
    }
  } catch (error) {
    problems.push(
      error instanceof PersoniumError
        ? `${error.code} ${error.message}`
        : `unreadable: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (problems.length === 0 && typeof expected.entries === "number" && expected.entries !== entries) {
    problems.push(`${entries} zip entries, expected ${expected.entries} from the seeded cell`);
  }
  return { ok: problems.length === 0, problems, entries, documents, files };
}
