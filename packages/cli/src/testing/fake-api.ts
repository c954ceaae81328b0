/**
 * An in-process stand-in for the cellport api, speaking the documented contract
 * (spec §1–§6) closely enough for the CLI's own tests: cells, export with progress
 * and history, cancel, import status, the snapshot area with Range. Exports finish
 * after a few status polls and publish a real version-2 zip; `loseExports` makes
 * them vanish without a trace, which the load test must catch.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { JobHistoryEntry } from "@cellport/shared";
import { buildZip, minimalSnapshotEntries } from "@cellport/snapshot/testing";

export interface FakeApiOptions {
  token?: string;
  /** Status polls an export takes (each advances progress). */
  pollsPerExport?: number;
  loseExports?: boolean;
  failExports?: boolean;
}

interface FakeCell {
  exporting: { name: string; progress: number; acceptedAt: string } | null;
  snapshots: Map<string, { data: Buffer; etag: string; contentType: string }>;
  history: JobHistoryEntry[];
}

export interface FakeApi {
  url: string;
  cells: Map<string, FakeCell>;
  requests: Array<{ method: string; path: string; headers: IncomingMessage["headers"] }>;
  addCell(name: string): void;
  close(): Promise<void>;
}

function errorBody(code: string, value: string): string {
  return JSON.stringify({ code, message: { lang: "en", value } });
}

function send(res: ServerResponse, status: number, body = "", headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += (chunk as Buffer).toString("utf8");
  return text;
}

export async function startFakeApi(options: FakeApiOptions = {}): Promise<FakeApi> {
  const token = options.token ?? "master-token-for-tests";
  const pollsPerExport = options.pollsPerExport ?? 3;
  const cells = new Map<string, FakeCell>();
  const requests: FakeApi["requests"] = [];
  let url = "";
  const addCell = (name: string) => cells.set(name, { exporting: null, snapshots: new Map(), history: [] });

  async function finishExport(cell: string, state: FakeCell): Promise<void> {
    const job = state.exporting;
    if (!job) return;
    state.exporting = null;
    if (options.loseExports) return;
    const base = {
      kind: "export" as const,
      name: job.name,
      acceptedAt: job.acceptedAt,
      finishedAt: new Date().toISOString(),
      durationMs: 5,
      requestKey: "test_key",
      attempts: 1,
    };
    if (options.failExports) {
      const error = { code: "PR500-SV-0000", message: { lang: "en" as const, value: "Unknown error." } };
      state.snapshots.set(`${job.name}.error`, {
        data: Buffer.from(JSON.stringify(error)),
        etag: '"1-1"',
        contentType: "application/json",
      });
      state.history.unshift({ ...base, outcome: "failed", error });
      return;
    }
    const data = await buildZip(minimalSnapshotEntries({ unitUrl: url, cellName: cell }));
    const sha256 = createHash("sha256").update(data).digest("hex");
    state.snapshots.set(`${job.name}.zip`, {
      data,
      etag: `"1-${Date.now()}"`,
      contentType: "application/zip",
    });
    state.history.unshift({ ...base, outcome: "completed", size: data.length, sha256 });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const method = req.method ?? "GET";
    requests.push({ method, path, headers: req.headers });
    if (path === "/readyz") return send(res, 200, "{}");
    if (req.headers.authorization !== `Bearer ${token}`) {
      return send(res, 401, errorBody("PR401-AU-0001", "Authorization required."));
    }
    if (path === "/__ctl/Cell" && method === "GET") {
      return send(res, 200, JSON.stringify({ d: { results: [...cells.keys()].map((Name) => ({ Name })) } }));
    }
    if (path === "/__ctl/Cell" && method === "POST") {
      const name = (JSON.parse(await readBody(req)) as { Name: string }).Name;
      if (cells.has(name)) return send(res, 409, errorBody("PR409-OD-0003", "The entity already exists."));
      addCell(name);
      return send(res, 201, JSON.stringify({ d: { results: { Name: name } } }));
    }
    const key = /^\/__ctl\/Cell\('([^']*)'\)$/.exec(path);
    if (key) {
      const name = key[1] as string;
      if (!cells.has(name)) return send(res, 404, errorBody("PR404-DV-0003", "Cell not found."));
      if (method === "DELETE") {
        cells.delete(name);
        return send(res, 204);
      }
      return send(res, 200, JSON.stringify({ d: { results: { Name: name } } }));
    }
    const match = /^\/([^/]+)\/(__export|__import|__snapshot|__)(?:\/(.*))?$/.exec(path);
    const state = match ? cells.get(match[1] as string) : undefined;
    if (!match || !state) return send(res, 404, errorBody("PR404-DV-0003", "Cell not found."));
    const cell = match[1] as string;
    const resource = match[2];
    const rest = match[3];

    if (resource === "__export" && rest === "history")
      return send(res, 200, JSON.stringify({ exports: state.history }));
    if (resource === "__export") {
      if (method === "POST") {
        if (state.exporting) {
          return send(
            res,
            409,
            errorBody(
              "PR409-CM-0002",
              "Because [cell export] is being executed, writing to cell can not be done.",
            ),
          );
        }
        const text = await readBody(req);
        const name = text
          ? ((JSON.parse(text) as { Name?: string }).Name ?? `${cell}_20240101_000000`)
          : `${cell}_20240101_000000`;
        state.exporting = { name, progress: 0, acceptedAt: new Date().toISOString() };
        return send(res, 202, "", { Location: `${url}${cell}/__export` });
      }
      if (method === "DELETE") {
        if (!state.exporting)
          return send(res, 404, errorBody("PR404-DV-0001", "Resource not found. [__export]."));
        const job = state.exporting;
        state.exporting = null;
        state.history.unshift({
          kind: "export",
          name: job.name,
          outcome: "cancelled",
          acceptedAt: job.acceptedAt,
          finishedAt: new Date().toISOString(),
          durationMs: 1,
          requestKey: "k",
          attempts: 1,
        });
        return send(res, 204);
      }
      const job = state.exporting;
      if (!job) return send(res, 200, JSON.stringify({ status: "ready" }));
      const body = {
        status: "exportation in progress",
        started_at: job.acceptedAt,
        progress: `${job.progress}%`,
        exportation_name: job.name,
      };
      job.progress = Math.min(100, job.progress + Math.ceil(100 / pollsPerExport));
      if (job.progress >= 100) await finishExport(cell, state);
      return send(res, 200, JSON.stringify(body));
    }
    if (resource === "__import") {
      if (method === "POST" && state.exporting) {
        return send(
          res,
          409,
          errorBody(
            "PR409-CM-0002",
            "Because [cell export] is being executed, writing to cell can not be done.",
          ),
        );
      }
      if (method === "POST")
        return send(res, 404, errorBody("PR404-DV-0001", "Resource not found. [x.zip]."));
      return send(res, 200, JSON.stringify({ status: "ready" }));
    }
    if (resource === "__") {
      if (state.exporting) {
        return send(
          res,
          409,
          errorBody(
            "PR409-CM-0002",
            "Because [cell export] is being executed, writing to cell can not be done.",
          ),
        );
      }
      await readBody(req);
      return send(res, method === "DELETE" ? 204 : 201);
    }
    // __snapshot
    if (!rest && method === "PROPFIND") {
      const items = [...state.snapshots.entries()]
        .map(
          ([file, s]) =>
            `<response><href>${url}${cell}/__snapshot/${file}</href><propstat><prop><getcontentlength>${s.data.length}</getcontentlength><getcontenttype>${s.contentType}</getcontenttype><getlastmodified>Mon, 01 Jan 2024 00:00:00 GMT</getlastmodified><resourcetype/></prop></propstat></response>`,
        )
        .join("");
      return send(
        res,
        207,
        `<multistatus xmlns="DAV:"><response><href>${url}${cell}/__snapshot/</href></response>${items}</multistatus>`,
        { "Content-Type": "application/xml" },
      );
    }
    const file = rest ?? "";
    const snapshot = state.snapshots.get(file);
    if (method === "PUT") {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const created = !snapshot;
      state.snapshots.set(file, {
        data: Buffer.concat(chunks),
        etag: `"2-${Date.now()}"`,
        contentType: req.headers["content-type"] ?? "",
      });
      return send(res, created ? 201 : 204, "", { ETag: state.snapshots.get(file)?.etag ?? "" });
    }
    if (!snapshot)
      return send(
        res,
        404,
        errorBody("PR404-DV-0001", `Resource not found. [${url}${cell}/__snapshot/${file}].`),
      );
    if (method === "DELETE") {
      state.snapshots.delete(file);
      return send(res, 204);
    }
    if (method === "PROPFIND") {
      return send(
        res,
        207,
        `<multistatus xmlns="DAV:"><response><href>${url}${cell}/__snapshot/${file}</href><propstat><prop><getcontentlength>${snapshot.data.length}</getcontentlength></prop></propstat></response></multistatus>`,
        { "Content-Type": "application/xml" },
      );
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const ifRange = req.headers["if-range"];
    if (range && (!ifRange || ifRange === snapshot.etag)) {
      const start = Number(range[1]);
      if (start >= snapshot.data.length) return send(res, 416, "");
      const part = snapshot.data.subarray(start);
      res.writeHead(206, {
        "Content-Type": snapshot.contentType,
        "Content-Length": String(part.length),
        "Content-Range": `bytes ${start}-${snapshot.data.length - 1}/${snapshot.data.length}`,
        ETag: snapshot.etag,
      });
      res.end(part);
      return;
    }
    res.writeHead(200, {
      "Content-Type": snapshot.contentType,
      "Content-Length": String(snapshot.data.length),
      ETag: snapshot.etag,
    });
    res.end(snapshot.data);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, errorBody("PR500-SV-9999", String(error))));
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
  return {
    url,
    cells,
    requests,
    addCell,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
