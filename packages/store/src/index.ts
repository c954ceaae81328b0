export * from "./errors.ts";
export { createFsStore, type FsStoreOptions } from "./fs-store.ts";
export * from "./port.ts";
