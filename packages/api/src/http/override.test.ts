import { describe, expect, it } from "vitest";
import { applyOverrides, overrideEntries, parseOverrideEntry, rawHeaderValues } from "./override.ts";

describe("X-Override entries", () => {
  it("splits at the first colon and trims", () => {
    expect(parseOverrideEntry("  Authorization :  Bearer a:b  ")).toEqual({
      name: "Authorization",
      value: "Bearer a:b",
    });
    expect(parseOverrideEntry("Accept:")).toEqual({ name: "Accept", value: "" });
  });

  it("ignores entries without a colon or with an empty or invalid name", () => {
    expect(parseOverrideEntry("no colon")).toBeNull();
    expect(parseOverrideEntry(": value")).toBeNull();
    expect(parseOverrideEntry("bad name: v")).toBeNull();
  });

  it("recovers repeated headers joined by fetch, without splitting list values", () => {
    expect(overrideEntries("A: 1, B: 2, Accept: text/html, application/json")).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "2" },
      { name: "Accept", value: "text/html, application/json" },
    ]);
  });

  it("prefers raw header lines when the server provides them", () => {
    const raw = ["Host", "x", "X-Override", "Date: Mon, 13:00", "x-override", "B: 2"];
    expect(rawHeaderValues(raw, "x-override")).toEqual(["Date: Mon, 13:00", "B: 2"]);
    expect(overrideEntries("ignored: 1", rawHeaderValues(raw, "x-override"))).toEqual([
      { name: "Date", value: "Mon, 13:00" },
      { name: "B", value: "2" },
    ]);
    expect(rawHeaderValues(undefined, "x-override")).toBeUndefined();
  });
});

describe("applyOverrides", () => {
  it("returns the same request when nothing is overridden", () => {
    const request = new Request("http://h/x", {
      method: "POST",
      headers: { "X-HTTP-Method-Override": "DELETE" },
    });
    const get = new Request("http://h/x", { headers: { "X-HTTP-Method-Override": "DELETE" } });
    expect(applyOverrides(get)).toBe(get);
    expect(applyOverrides(request)).not.toBe(request);
  });

  it("replaces headers in order, later entries winning", () => {
    const request = new Request("http://h/x", {
      headers: [
        ["Authorization", "Bearer old"],
        ["X-Override", "Authorization: Bearer one"],
        ["X-Override", "Authorization: Bearer two"],
      ],
    });
    expect(applyOverrides(request).headers.get("authorization")).toBe("Bearer two");
  });

  it("changes a POST's method, keeping the body unless the new method has none", async () => {
    const put = applyOverrides(
      new Request("http://h/x", {
        method: "POST",
        body: "data",
        headers: { "X-HTTP-Method-Override": "put" },
      }),
    );
    expect(put.method).toBe("PUT");
    expect(await put.text()).toBe("data");
    const get = applyOverrides(
      new Request("http://h/x", {
        method: "POST",
        body: "data",
        headers: { "X-HTTP-Method-Override": "GET" },
      }),
    );
    expect(get.method).toBe("GET");
    expect(get.body).toBeNull();
  });

  it("lets X-Override supply the method override", () => {
    const request = new Request("http://h/x", {
      method: "POST",
      headers: { "X-Override": "X-HTTP-Method-Override: PROPFIND" },
    });
    expect(applyOverrides(request).method).toBe("PROPFIND");
  });

  it("ignores a method override on anything but POST, and an invalid one", () => {
    const put = new Request("http://h/x", {
      method: "PUT",
      body: "x",
      headers: { "X-HTTP-Method-Override": "DELETE" },
    });
    expect(applyOverrides(put).method).toBe("PUT");
    const bad = new Request("http://h/x", {
      method: "POST",
      headers: { "X-HTTP-Method-Override": "DE LETE" },
    });
    expect(applyOverrides(bad).method).toBe("POST");
  });
});
