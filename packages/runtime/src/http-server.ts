import type { Server } from "node:http";

/**
 * Stops accepting, lets in-flight requests (downloads included) finish for up to
 * `graceMs`, then cuts the remaining connections: `server.close()` alone would wait
 * for every streaming download.
 */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      done();
    });
    server.closeIdleConnections();
  });
}
