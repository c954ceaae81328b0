/**
 * The worker's small HTTP server, for Prometheus and probes only:
 *   GET /metrics → the registry in Prometheus text format
 *   GET /healthz → 200 {"status":"ok"} while the process serves (liveness)
 * Plain node:http: the worker needs no router for two paths.
 *
 * Port choice (`CELLPORT_WORKER_METRICS_PORT`): a port given explicitly is a promise
 * to whoever scrapes it, so a busy one fails start-up; the default (9464) is a
 * convenience, so when it is taken — a second worker on the same host — the server
 * takes a free port instead and says so. `0` always means a free port.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { closeServer, type Logger } from "@cellport/runtime";

/** The port OpenTelemetry's Prometheus exporter uses by default; nothing of ours conflicts. */
export const DEFAULT_METRICS_PORT = 9464;

/** What the server needs of a prom-client Registry. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface MetricsServerOptions {
  source: MetricsSource;
  /** Undefined: DEFAULT_METRICS_PORT, or a free port when that one is taken. */
  port?: number;
  host?: string;
  logger: Logger;
}

export interface MetricsServer {
  /** The port actually listened on. */
  readonly port: number;
  /** Idempotent. */
  close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { source, logger } = options;
  const server = createServer(function serveMetrics(request, response) {
    const path = new URL(request.url ?? "/", "http://worker").pathname;
    if (path !== "/metrics" && path !== "/healthz") {
      response.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("Not found\n");
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" });
      response.end("Method not allowed\n");
      return;
    }
    if (path === "/healthz") {
      response.writeHead(200, { "Content-Type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    source.metrics().then(
      (text) => response.writeHead(200, { "Content-Type": source.contentType }).end(text),
      (error: unknown) => {
        logger.error({ err: error }, "could not collect metrics");
        response.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" }).end("Metrics failed\n");
      },
    );
  });

  const host = options.host ?? "0.0.0.0";
  try {
    await listen(server, options.port ?? DEFAULT_METRICS_PORT, host);
  } catch (error) {
    if (options.port !== undefined || (error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    logger.warn({ port: DEFAULT_METRICS_PORT }, "default metrics port in use; listening on a free port");
    await listen(server, 0, host);
  }

  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      // Scrapes are short: a second is plenty before connections are cut.
      closing ??= closeServer(server, 1_000);
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}
