/**
 * Every Redis name cellport uses beside BullMQ's own, in one place, so the api
 * (producer) and the worker (consumer) agree on them.
 *
 * The prefix carries a hash tag (`{cellport}`): every key below and every BullMQ key
 * of the queue then land in one Redis Cluster slot, so BullMQ's Lua scripts and our own
 * (lua-script.ts) never fail with CROSSSLOT.
 */
import { QUEUE_NAME } from "@cellport/shared";

export const DEFAULT_PREFIX = "{cellport}";

export interface CellportKeys {
  readonly prefix: string;
  /** BullMQ's key of a queue-level structure (`active`, `delayed`, …) or, with an id, a job hash. */
  bull(type: string): string;
  /** BullMQ's deduplication key of a cell: holds the id of the cell's queued or running job. */
  dedup(cell: string): string;
  /** LIST of JSON `JobHistoryEntry`, newest first, trimmed to the history limit. */
  history(cell: string): string;
  /** JSON `ImportFailure` of the cell's last failed import (spec §4.2). */
  importFailure(cell: string): string;
  /** Set (with a TTL) when a cancel of that job was requested; read by the worker at job start. */
  cancel(jobId: string): string;
  /** Pub/sub channel carrying the id of a job to cancel, to every worker process. */
  readonly cancelChannel: string;
  /** Pub/sub channel carrying the name of a cell whose job just ended, to every api process. */
  readonly jobEndedChannel: string;
}

export function keysFor(prefix: string = DEFAULT_PREFIX): CellportKeys {
  const bull = (type: string) => `${prefix}:${QUEUE_NAME}:${type}`;
  return {
    prefix,
    bull,
    dedup: (cell) => bull(`de:${cell}`),
    history: (cell) => `${prefix}:history:${cell}`,
    importFailure: (cell) => `${prefix}:import-failure:${cell}`,
    cancel: (jobId) => `${prefix}:cancel:${jobId}`,
    cancelChannel: `${prefix}:cancel`,
    jobEndedChannel: `${prefix}:job-ended`,
  };
}
