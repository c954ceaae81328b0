import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpTransport } from "./http-transport.ts";

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<URL> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
}

describe("http transport", () => {
  it("sends bodies of every kind and reuses one connection for calls in a row", async () => {
    const sockets = new Set<unknown>();
    const base = await serve((req, res) => {
      sockets.add(req.socket);
      let received = "";
      req.on("data", (chunk: Buffer) => {
        received += chunk.toString();
      });
      req.on("end", () => {
        res.setHeader("Content-Type", "application/json");
        res.setHeader("ETag", '"1-2"');
        res.end(
          JSON.stringify({ method: req.method, received, length: req.headers["content-length"] ?? null }),
        );
      });
    });
    const transport = createHttpTransport();
    const text = await transport.send(base, "POST", {}, "hello");
    expect(text.status).toBe(200);
    expect(text.headers.get("etag")).toBe('"1-2"');
    expect(await text.json()).toEqual({ method: "POST", received: "hello", length: "5" });
    const bytes = await transport.send(base, "PUT", {}, new Uint8Array([104, 105]));
    expect(await bytes.json()).toMatchObject({ received: "hi", length: "2" });
    const stream = await transport.send(
      base,
      "PUT",
      { "Content-Length": "6" },
      Readable.from(["str", "eam"]),
    );
    expect(await stream.json()).toMatchObject({ received: "stream", length: "6" });
    await (await transport.send(base, "GET", {})).discard();
    expect(sockets.size).toBe(1);
  });

  it("fails a request the server never answers once the connection has been idle too long", async () => {
    const base = await serve(() => {});
    const transport = createHttpTransport({ idleTimeoutMs: 100 });
    await expect(transport.send(base, "GET", {})).rejects.toThrow("no data from the server for 0.1 s");
  });

  it("fails a body that stops arriving the same way", async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { "Content-Length": "10" });
      res.write("12345");
    });
    const transport = createHttpTransport({ idleTimeoutMs: 100 });
    const response = await transport.send(base, "GET", {});
    await expect(response.text()).rejects.toThrow();
  });
});
