/**
 * The job catalog shared by the api (producer) and the worker (consumer), so both
 * agree at compile time on what a job carries and what it returns.
 *
 * One queue carries exports and imports: a cell has at most one job of either kind
 * (BullMQ deduplication keyed by the cell name), so an export and an import of one
 * cell never overlap and the cell lock (spec §5) is simply "the cell has a job".
 */
export const QUEUE_NAME = "cell-jobs";

export type JobKind = "export" | "import";

/** What the lock message names while a job of that kind holds the cell (spec §5). */
export const LOCK_LABEL: Record<JobKind, string> = {
  export: "cell export",
  import: "cell import",
};

export interface CellJobData {
  kind: JobKind;
  cell: string;
  /** Snapshot name without `.zip`. */
  name: string;
  /** Acceptance time, ISO 8601 with milliseconds and `Z`: the status body's `started_at`. */
  acceptedAt: string;
  /** `X-Personium-RequestKey` of the request that started the job; follows it into worker logs. */
  requestKey: string;
  /** Unit URL advertised in the snapshot manifest (`unit_url`). */
  unitUrl: string;
}

/** Job progress as stored in BullMQ: a whole percent, 0..100. */
export type CellJobProgress = number;

export interface ExportResult {
  kind: "export";
  file: string;
  size: number;
  sha256: string;
  etag: string;
  entries: number;
}

export interface ImportResult {
  kind: "import";
  entities: number;
  files: number;
}

export type CellJobResult = ExportResult | ImportResult;

/** BullMQ job states, plus `missing` for a job id that no longer resolves. */
export type JobState =
  | "waiting"
  | "waiting-children"
  | "delayed"
  | "prioritized"
  | "active"
  | "completed"
  | "failed"
  | "unknown"
  | "missing";

export type JobOutcome = "completed" | "failed" | "cancelled";

/** One entry of a cell's job history (the extension resource beside the seed's status). */
export interface JobHistoryEntry {
  kind: JobKind;
  name: string;
  outcome: JobOutcome;
  acceptedAt: string;
  finishedAt: string;
  durationMs: number;
  requestKey: string;
  attempts: number;
  size?: number;
  sha256?: string;
  error?: { code: string; message: { lang: "en"; value: string } };
}
