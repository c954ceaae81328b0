/**
 * The main-thread side of the store thread (store-thread-body.ts): starts it on
 * first use, sends it one request per export listing, sweep, publish or remove,
 * gathers the replies, and lets it go after a while without work (its isolate costs
 * a few MB of memory). An idle thread never keeps the process alive.
 */
import { Worker } from "node:worker_threads";
import { reviveStoreError } from "./errors.ts";
import type { Sidecar } from "./snapshot-sidecar.ts";
import {
  decodeTreeChunk,
  type PublishRequest,
  type RemoveRequest,
  type StoreReply,
  type StoreRequest,
  type TreeEntry,
  type WalkedFile,
  type WalkRequest,
} from "./store-thread-protocol.ts";

export interface WalkResult {
  stats: Array<WalkedFile | null>;
}

/** The reply that ends a request. */
type FinalReply = Exclude<StoreReply, { kind: "tree" | "error" }>;

interface Pending {
  /** A walk's entries, as they arrive. */
  onEntry?: (entry: TreeEntry) => void;
  /** Bytes of the files listed without their content: what the export will read later. */
  streamedBytes: number;
  resolve(reply: FinalReply): void;
  reject(error: Error): void;
}

/** Idle this long, the thread exits; the next export starts another (a few ms). */
const IDLE_EXIT_MS = 10_000;
/**
 * After listing an export that streams more than this, the thread exits at once: the
 * export runs for seconds, so starting a thread again for the next one costs nothing
 * next to it, and its zip streaming is where the process's memory peaks.
 */
const BIG_EXPORT_BYTES = 64 * 1024 * 1024;

/**
 * Starts the thread. The bundled worker carries its code compiled next to its
 * main.mjs (scripts/build.mjs); from source (tests, the CLI) it is TypeScript, and
 * the thread registers the same loader as its parent before loading it.
 */
function startThread(): Worker {
  // Short-lived garbage only (one part of a listing at a time): a small young
  // generation keeps its memory down. The old generation keeps the default limit, so
  // a directory of a million names still lists.
  const resourceLimits = { maxYoungGenerationSizeMb: 1 };
  if (!import.meta.url.endsWith(".ts")) {
    return new Worker(new URL("./store-thread-body.mjs", import.meta.url), { resourceLimits });
  }
  const script = new URL("./store-thread-body.ts", import.meta.url).href;
  const loader = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script)}); });`;
  return new Worker(boot, { eval: true, resourceLimits });
}

export class StoreThread {
  private thread: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  /**
   * Lists `request.walk.root`, handing each entry to `onEntry` in order as the parts
   * arrive (each part in its own turn of the event loop), and stats `request.stat`.
   */
  async walk(
    request: Omit<WalkRequest, "id" | "kind">,
    onEntry: (entry: TreeEntry) => void,
  ): Promise<WalkResult> {
    const reply = await this.send({ ...request, kind: "walk" }, onEntry);
    return { stats: reply.kind === "done" ? reply.stats : [] };
  }

  /** Each directory's names (unsorted), null for one that does not exist. */
  async list(dirs: string[]): Promise<Array<string[] | null>> {
    const reply = await this.send({ kind: "list", dirs });
    return reply.kind === "listed" ? reply.names : [];
  }

  /** Publishes a finished temp file (snapshot-publish.ts); the sidecar of the new version. */
  async publish(
    request: Omit<PublishRequest, "id" | "kind">,
  ): Promise<{ created: boolean; sidecar: Sidecar }> {
    const reply = await this.send({ ...request, kind: "publish" });
    if (reply.kind !== "published") throw new Error(`the store thread answered ${reply.kind} to a publish`);
    return { created: reply.created, sidecar: reply.sidecar };
  }

  /** Removes a published file (snapshot-publish.ts). */
  async remove(request: Omit<RemoveRequest, "id" | "kind">): Promise<void> {
    await this.send({ ...request, kind: "remove" });
  }

  private send(request: DistributiveOmit<StoreRequest, "id">, onEntry?: (entry: TreeEntry) => void) {
    const id = this.nextId++;
    const thread = this.ensureThread();
    clearTimeout(this.idleTimer);
    // Kept alive only while a request waits on it.
    thread.ref();
    return new Promise<FinalReply>((resolve, reject) => {
      this.pending.set(id, { ...(onEntry ? { onEntry } : {}), streamedBytes: 0, resolve, reject });
      thread.postMessage({ ...request, id } satisfies StoreRequest);
    });
  }

  /**
   * Stops the thread now; waiting requests fail at once (a thread blocked in a file
   * system call ends only when the call returns). The next request starts another.
   */
  close(): void {
    const thread = this.thread;
    this.thread = undefined;
    clearTimeout(this.idleTimer);
    this.failAll(new Error("the store thread was stopped"));
    thread?.unref();
    void thread?.terminate();
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  private ensureThread(): Worker {
    if (this.thread) return this.thread;
    const thread = startThread();
    thread.unref();
    thread.on("message", (reply: StoreReply) => this.receive(reply));
    const fail = (error: Error) => {
      // A stopped thread's exit concerns nobody: its requests already failed.
      if (this.thread !== thread) return;
      this.thread = undefined;
      this.failAll(error);
    };
    thread.on("error", fail);
    thread.on("exit", (code) => fail(new Error(`the store thread exited (code ${code})`)));
    this.thread = thread;
    return thread;
  }

  private receive(reply: StoreReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    if (reply.kind === "tree") {
      decodeTreeChunk(reply.chunk, (entry) => {
        if (!entry.directory && !entry.data) pending.streamedBytes += entry.size;
        pending.onEntry?.(entry);
      });
      return;
    }
    this.pending.delete(reply.id);
    let big = false;
    if (reply.kind === "error") {
      const revived = reply.storeError ? reviveStoreError(reply.storeError, reply.message) : null;
      pending.reject(
        revived ?? Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {}),
      );
    } else {
      if (reply.kind === "done") {
        for (const file of reply.stats)
          if (file && !file.directory && !file.data) pending.streamedBytes += file.size;
        big = pending.streamedBytes > BIG_EXPORT_BYTES;
      }
      pending.resolve(reply);
    }
    if (this.pending.size === 0) this.idle(big ? 0 : IDLE_EXIT_MS);
  }

  private idle(exitAfterMs: number): void {
    this.thread?.unref();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      const thread = this.thread;
      if (!thread || this.pending.size > 0) return;
      this.thread = undefined;
      void thread.terminate();
    }, exitAfterMs);
    this.idleTimer.unref();
  }
}

/** `Omit` applied to each member of a union (so `kind` still tells them apart). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** One per process: every store shares the thread. */
export const storeThread = new StoreThread();
