/**
 * How the CLI's client talks HTTP: node:http (https for an https URL) over keep-alive
 * connections, one agent per client. Not Node's fetch: it costs about 2.5 times the
 * CPU per request (a small GET: ~480 µs against ~180 µs, measured side by side), and
 * the load tester and the benchmarks share the machine with what they measure.
 */
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";

export type RequestBody = string | Uint8Array | Readable;

/**
 * A connection silent this long (no answer, or a body that stopped arriving) fails
 * the request: the limits fetch applied (undici's headers and body timeouts).
 */
export const IDLE_TIMEOUT_MS = 300_000;

export interface ApiResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  /** The body as it arrives (a download streams it); read it once, one way. */
  readonly body: Readable;
  text(): Promise<string>;
  json<T>(): Promise<T>;
  /** Reads and drops the body, so the connection is reused. */
  discard(): Promise<void>;
}

export interface HttpTransport {
  send(url: URL, method: string, headers: Record<string, string>, body?: RequestBody): Promise<ApiResponse>;
}

export function createHttpTransport(options: { idleTimeoutMs?: number } = {}): HttpTransport {
  const idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  // Idle keep-alive sockets never hold the process open (the agent unrefs them).
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  return {
    send(url, method, headers, body) {
      const secure = url.protocol === "https:";
      const outgoing = { ...headers };
      if (typeof body === "string" || body instanceof Uint8Array) {
        outgoing["Content-Length"] = String(Buffer.byteLength(body));
      }
      return new Promise((resolve, reject) => {
        const options = { method, headers: outgoing, agent: secure ? agents.https : agents.http };
        const request = (secure ? https : http).request(url, options, (response) => resolve(wrap(response)));
        request.on("error", reject);
        request.setTimeout(idleTimeoutMs, () =>
          request.destroy(new Error(`no data from the server for ${idleTimeoutMs / 1000} s`)),
        );
        if (body instanceof Readable) pipeline(body, request).catch(reject);
        else request.end(body);
      });
    },
  };
}

function wrap(response: IncomingMessage): ApiResponse {
  const text = async () => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    // Rejects when the connection closes before the body's end.
    await finished(response);
    return Buffer.concat(chunks).toString("utf8");
  };
  return {
    status: response.statusCode ?? 0,
    headers: {
      get(name) {
        const value = response.headers[name.toLowerCase()];
        if (value === undefined) return null;
        return Array.isArray(value) ? value.join(", ") : value;
      },
    },
    body: response,
    text,
    json: async <T>() => JSON.parse(await text()) as T,
    async discard() {
      response.resume();
      await finished(response).catch(() => {});
    },
  };
}
