import { describe, expect, it } from "vitest";
import { withConventionHeaders } from "./response-headers.ts";

const values = { personiumVersion: "1.7.21", requestKey: "rk_1" };
const EXPECTED = {
  "X-Personium-Version": "1.7.21",
  "Access-Control-Allow-Origin": "*",
  "X-Personium-RequestKey": "rk_1",
};

describe("withConventionHeaders", () => {
  it("puts the headers on the Response when there is no Node response", () => {
    const response = withConventionHeaders(new Response("{}"), values);
    for (const [name, value] of Object.entries(EXPECTED)) expect(response.headers.get(name)).toBe(value);
    expect(response.headers.get("Access-Control-Expose-Headers")).toContain("X-Personium-RequestKey");
  });

  it("copies a Response whose headers are immutable", async () => {
    const immutable = Response.redirect("http://localhost/x", 302);
    const response = withConventionHeaders(immutable, values);
    expect(response.status).toBe(302);
    expect(response.headers.get("X-Personium-RequestKey")).toBe("rk_1");
  });

  it("puts them on the Node response, leaving the Response untouched, while headers can still be set", () => {
    const set = new Map<string, string>();
    const node = { headersSent: false, setHeader: (name: string, value: string) => set.set(name, value) };
    const original = new Response("{}", { headers: { "Content-Type": "application/json" } });
    const response = withConventionHeaders(original, values, node);
    expect(response).toBe(original);
    expect(Object.fromEntries(set)).toMatchObject(EXPECTED);
    expect(response.headers.get("X-Personium-Version")).toBeNull();

    const sent = withConventionHeaders(new Response("{}"), values, { ...node, headersSent: true });
    expect(sent.headers.get("X-Personium-Version")).toBe("1.7.21");
  });
});
