/**
 * The pure mapping from a cell's current job to the documented status bodies
 * (spec §3.2 for export — the seed — and §4.2 for import). Both the api and the tests
 * use it; it knows nothing of Redis.
 */
import type { PersoniumErrorBody } from "./errors.ts";
import type { CellJobData, JobState } from "./jobs.ts";

export type ExportStatusBody =
  | { status: "ready" }
  | { status: "exportation in progress"; started_at: string; progress: string; exportation_name: string };

export type ImportStatusBody =
  | { status: "ready" }
  | { status: "importation in progress"; started_at: string; progress: string; importation_name: string }
  | {
      status: "import failed";
      started_at: string;
      progress: string;
      importation_name: string;
      message: PersoniumErrorBody;
    };

/** A cell's current (deduplicated) job as read from the queue, or none. */
export interface CurrentJob {
  state: JobState;
  data: CellJobData;
  /** Raw BullMQ progress; anything that is not a finite number reads as 0. */
  progress: unknown;
}

/** The last import's failure, kept until the next import starts (spec §4.2). */
export interface ImportFailure {
  name: string;
  acceptedAt: string;
  progress: number;
  error: PersoniumErrorBody;
}

/** States in which a job still holds its cell: queued or running. */
const IN_PROGRESS_STATES: ReadonlySet<JobState> = new Set<JobState>([
  "waiting",
  "waiting-children",
  "delayed",
  "prioritized",
  "active",
]);

export function isInProgress(state: JobState): boolean {
  return IN_PROGRESS_STATES.has(state);
}

/** `"N%"`: whole percent, truncated, clamped to 0..100. */
export function formatProgress(progress: unknown): string {
  const value = typeof progress === "number" && Number.isFinite(progress) ? progress : 0;
  return `${Math.min(100, Math.max(0, Math.trunc(value)))}%`;
}

/**
 * GET `{CellURL}__export`. Ready whenever no export is queued or running — after
 * success and after failure alike; an import holding the cell is not an export.
 */
export function exportStatus(job: CurrentJob | null): ExportStatusBody {
  if (job?.data.kind !== "export" || !isInProgress(job.state)) return { status: "ready" };
  return {
    status: "exportation in progress",
    started_at: job.data.acceptedAt,
    progress: formatProgress(job.progress),
    exportation_name: job.data.name,
  };
}

/** GET `{CellURL}__import`: in progress, else the last failure until the next import, else ready. */
export function importStatus(job: CurrentJob | null, lastFailure: ImportFailure | null): ImportStatusBody {
  if (job && job.data.kind === "import" && isInProgress(job.state)) {
    return {
      status: "importation in progress",
      started_at: job.data.acceptedAt,
      progress: formatProgress(job.progress),
      importation_name: job.data.name,
    };
  }
  if (lastFailure) {
    return {
      status: "import failed",
      started_at: lastFailure.acceptedAt,
      progress: formatProgress(lastFailure.progress),
      importation_name: lastFailure.name,
      message: lastFailure.error,
    };
  }
  return { status: "ready" };
}
