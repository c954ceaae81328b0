export { CONTENT_FILE, type EntryRole, META_FILE } from "./entry-rules.ts";
export { DEFAULT_SNAPSHOT_LIMITS, resolveLimits, type SnapshotLimits } from "./limits.ts";
export { type ReadSnapshotOptions, readSnapshot, type SnapshotItem } from "./read.ts";
export { type CellIdentity, type CellRewriter, createCellRewriter, sourceIdentity } from "./rewrite.ts";
export {
  type RangeSource,
  type SnapshotFiles,
  type SnapshotSource,
  snapshotAreaSource,
} from "./source.ts";
export { type SnapshotSummary, type ValidateOptions, validateSnapshot } from "./validate.ts";
