/**
 * The status benchmark's baseline: a bare node:http endpoint in this process that
 * answers what GET `__export` answers (same JSON shape and size, same JSON content
 * type), with no routing, auth, Redis or logging. Measured in the same run, on the
 * same machine, under the same background exports: "how fast could this be here".
 */
import { createServer, type Server } from "node:http";

export interface BaselineServer {
  url: string;
  close(): Promise<void>;
}

export async function startBaselineServer(body: string): Promise<BaselineServer> {
  const payload = Buffer.from(body);
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { "Content-Type": "application/json", "Content-Length": payload.length });
    response.end(payload);
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/c1/__export`,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
