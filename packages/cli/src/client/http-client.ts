/**
 * The CLI's HTTP client for the cellport api: one method per documented operation
 * (spec §1, §9), Personium error bodies turned into `ApiError` (exit code by status),
 * and an optional observer that sees every request's outcome and latency (the load
 * test's statistics come from it).
 */
import type { Readable } from "node:stream";
import type { ExportStatusBody, ImportStatusBody, JobHistoryEntry } from "@cellport/shared";
import { ApiError, NetworkError, parseErrorBody } from "../errors.ts";
import { type ApiResponse, createHttpTransport, type RequestBody } from "./http-transport.ts";
import { parseMultistatus, type SnapshotInfo } from "./propfind.ts";

/** One finished request, as the observer sees it. `status` 0 = no HTTP answer (network error). */
export interface RequestSample {
  /** A stable label of the operation, e.g. `GET __export` (never the cell name). */
  op: string;
  status: number;
  /** From sending the request to the response headers. */
  ms: number;
  /** Epoch ms when the request was sent. */
  sentAt: number;
}

export interface ClientOptions {
  /** Unit base URL with a trailing slash. */
  baseUrl: string;
  /** Resolved on first use (local commands never need one). */
  token: () => Promise<string>;
  onSample?: (sample: RequestSample) => void;
}

export interface RequestOptions {
  op: string;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Statuses that are success for this call; anything else throws ApiError. */
  expect: readonly number[];
  /** Send without Authorization (probing a public route). */
  anonymous?: boolean;
}

export interface CellInfo {
  name: string;
  raw: Record<string, unknown>;
}

export type CellportClient = ReturnType<typeof createClient>;

/** Encodes a cell or file name as one path segment. */
function seg(value: string): string {
  return encodeURIComponent(value);
}

export function createClient(options: ClientOptions) {
  const base = options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`;
  let tokenPromise: Promise<string> | undefined;
  const token = () => {
    tokenPromise ??= options.token();
    return tokenPromise;
  };

  const transport = createHttpTransport();

  async function request(path: string, method: string, opts: RequestOptions): Promise<ApiResponse> {
    const url = new URL(path, base);
    const headers: Record<string, string> = { ...opts.headers };
    if (!opts.anonymous) headers.Authorization = `Bearer ${await token()}`;
    const sentAt = Date.now();
    const started = performance.now();
    let response: ApiResponse;
    try {
      response = await transport.send(url, method, headers, opts.body);
    } catch (error) {
      options.onSample?.({ op: opts.op, status: 0, ms: performance.now() - started, sentAt });
      throw new NetworkError(url.href, error);
    }
    options.onSample?.({ op: opts.op, status: response.status, ms: performance.now() - started, sentAt });
    if (!opts.expect.includes(response.status)) {
      const text = await response.text().catch(() => "");
      throw new ApiError(response.status, parseErrorBody(text), `${method} ${url.href}`);
    }
    return response;
  }

  async function json<T>(path: string, method: string, opts: RequestOptions): Promise<T> {
    return (await request(path, method, opts)).json<T>();
  }

  /** Drains a body we do not need so the connection is reused. */
  async function done(response: ApiResponse): Promise<void> {
    await response.discard();
  }

  const jsonBody = (value: unknown) => ({
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(value),
  });

  return {
    baseUrl: base,
    request,

    // --- unit level: cells (spec §9) ---
    async createCell(name: string): Promise<void> {
      await done(
        await request("__ctl/Cell", "POST", { op: "POST Cell", expect: [201], ...jsonBody({ Name: name }) }),
      );
    },
    async deleteCell(name: string): Promise<void> {
      await done(await request(`__ctl/Cell('${seg(name)}')`, "DELETE", { op: "DELETE Cell", expect: [204] }));
    },
    async getCell(name: string): Promise<CellInfo> {
      const body = await json<unknown>(`__ctl/Cell('${seg(name)}')`, "GET", {
        op: "GET Cell",
        expect: [200],
      });
      return toCellInfo(unwrapOData(body)) ?? { name, raw: {} };
    },
    async listCells(): Promise<CellInfo[]> {
      const body = unwrapOData(await json<unknown>("__ctl/Cell", "GET", { op: "GET Cells", expect: [200] }));
      const rows = Array.isArray(body) ? body : ((body as { results?: unknown[] } | null)?.results ?? []);
      return rows.flatMap((row) => toCellInfo(row) ?? []);
    },

    // --- export (spec §3) ---
    async startExport(cell: string, name?: string): Promise<void> {
      const body = name === undefined ? {} : jsonBody({ Name: name });
      await done(
        await request(`${seg(cell)}/__export`, "POST", { op: "POST __export", expect: [202], ...body }),
      );
    },
    exportStatus(cell: string): Promise<ExportStatusBody> {
      return json(`${seg(cell)}/__export`, "GET", { op: "GET __export", expect: [200] });
    },
    async cancelExport(cell: string): Promise<void> {
      await done(await request(`${seg(cell)}/__export`, "DELETE", { op: "DELETE __export", expect: [204] }));
    },
    /** Newest first; null when the api has no history resource. */
    async exportHistory(cell: string): Promise<JobHistoryEntry[] | null> {
      try {
        const body = await json<unknown>(`${seg(cell)}/__export/history`, "GET", {
          op: "GET __export/history",
          expect: [200],
        });
        return toHistory(body);
      } catch (error) {
        // 404 "No such endpoint" / 405: an api without the extension resource.
        if (error instanceof ApiError && (error.status === 405 || error.code === "PR404-CM-0001"))
          return null;
        throw error;
      }
    },

    // --- import (spec §4) ---
    async startImport(cell: string, name: string): Promise<void> {
      await done(
        await request(`${seg(cell)}/__import`, "POST", {
          op: "POST __import",
          expect: [202],
          ...jsonBody({ Name: name }),
        }),
      );
    },
    importStatus(cell: string): Promise<ImportStatusBody> {
      return json(`${seg(cell)}/__import`, "GET", { op: "GET __import", expect: [200] });
    },

    // --- snapshot area (spec §6) ---
    async listSnapshots(cell: string): Promise<SnapshotInfo[]> {
      const response = await request(`${seg(cell)}/__snapshot`, "PROPFIND", {
        op: "PROPFIND __snapshot",
        headers: { Depth: "1" },
        expect: [207],
      });
      return parseMultistatus(await response.text());
    },
    /** null when the file does not exist. */
    async statSnapshot(cell: string, file: string): Promise<SnapshotInfo | null> {
      try {
        const response = await request(`${seg(cell)}/__snapshot/${seg(file)}`, "PROPFIND", {
          op: "PROPFIND __snapshot/{file}",
          headers: { Depth: "0" },
          expect: [207],
        });
        return parseMultistatus(await response.text())[0] ?? null;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
    /** The streamed response (200, or 206 when `from` is given and the server honours it). */
    downloadSnapshot(
      cell: string,
      file: string,
      from?: { offset: number; etag?: string },
    ): Promise<ApiResponse> {
      const headers: Record<string, string> = {};
      if (from && from.offset > 0) {
        headers.Range = `bytes=${from.offset}-`;
        if (from.etag) headers["If-Range"] = from.etag;
      }
      return request(`${seg(cell)}/__snapshot/${seg(file)}`, "GET", {
        op: "GET __snapshot/{file}",
        headers,
        expect: from && from.offset > 0 ? [200, 206, 416] : [200],
      });
    },
    async uploadSnapshot(
      cell: string,
      file: string,
      body: Readable,
      size: number,
      contentType = "application/zip",
    ): Promise<{ created: boolean; etag: string | null }> {
      const response = await request(`${seg(cell)}/__snapshot/${seg(file)}`, "PUT", {
        op: "PUT __snapshot/{file}",
        headers: { "Content-Type": contentType, "Content-Length": String(size) },
        body,
        expect: [201, 204],
      });
      await done(response);
      return { created: response.status === 201, etag: response.headers.get("etag") };
    },
    async deleteSnapshot(cell: string, file: string): Promise<void> {
      await done(
        await request(`${seg(cell)}/__snapshot/${seg(file)}`, "DELETE", {
          op: "DELETE __snapshot/{file}",
          expect: [204],
        }),
      );
    },
    async getSnapshotText(cell: string, file: string): Promise<string> {
      const response = await request(`${seg(cell)}/__snapshot/${seg(file)}`, "GET", {
        op: "GET __snapshot/{file}",
        expect: [200],
      });
      return response.text();
    },

    // --- main box files (spec §9): the load test's "cell writes" ---
    async putBoxFile(cell: string, path: string, content: string): Promise<void> {
      const encoded = path.split("/").map(seg).join("/");
      await done(
        await request(`${seg(cell)}/__/${encoded}`, "PUT", {
          op: "PUT box file",
          headers: { "Content-Type": "text/plain" },
          body: content,
          expect: [201, 204],
        }),
      );
    },
    async deleteBoxFile(cell: string, path: string): Promise<void> {
      const encoded = path.split("/").map(seg).join("/");
      await done(
        await request(`${seg(cell)}/__/${encoded}`, "DELETE", { op: "DELETE box file", expect: [204] }),
      );
    },
  };
}

/** Personium wraps OData answers in `{"d": {"results": …}}`; a plain body passes through. */
function unwrapOData(body: unknown): unknown {
  const d = (body as { d?: unknown } | null)?.d;
  return d === undefined ? body : d;
}

function toCellInfo(row: unknown): CellInfo | null {
  const record = (row as { results?: unknown } | null)?.results ?? row;
  if (typeof record !== "object" || record === null) return null;
  const raw = record as Record<string, unknown>;
  const name = raw.Name ?? raw.name;
  return typeof name === "string" ? { name, raw } : null;
}

function toHistory(body: unknown): JobHistoryEntry[] {
  if (Array.isArray(body)) return body as JobHistoryEntry[];
  const record = body as Record<string, unknown> | null;
  for (const key of ["exports", "history", "entries", "results"]) {
    const value = record?.[key];
    if (Array.isArray(value)) return value as JobHistoryEntry[];
  }
  return [];
}
