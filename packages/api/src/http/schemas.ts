/**
 * zod schemas of values several resources share: request fields (validated) and
 * status fields (documented). Route-specific bodies live next to their routes.
 */
import { SNAPSHOT_NAME_PATTERN } from "@cellport/shared";
import { z } from "zod";

/** A snapshot `Name` (spec §1), of export and import bodies alike. */
export const snapshotNameSchema = z
  .string()
  .regex(SNAPSHOT_NAME_PATTERN)
  .meta({ description: "Snapshot name: the file is `{Name}.zip` in the cell's snapshot area" });

/** Status documents' `started_at` (spec §3.2). */
export const startedAtSchema = z
  .string()
  .meta({ description: "Acceptance time, `yyyy-MM-ddTHH:mm:ss.SSSZ` (UTC)" });

/** Status documents' `progress` (spec §3.2). */
export const progressSchema = z
  .string()
  .regex(/^\d{1,3}%$/)
  .meta({ description: "Whole percent, `0%`…`100%`, never decreasing within one attempt" });
