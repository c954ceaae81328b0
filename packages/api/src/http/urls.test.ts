import { describe, expect, it } from "vitest";
import { baseUrlOf, queryParamOf, rawPathOf } from "./urls.ts";

const noBase = { baseUrl: null };

describe("request URL parts (cut from the href, equal to URL's)", () => {
  const hrefs = [
    "http://127.0.0.1:8080/c1/__export",
    "http://localhost/",
    "https://cells.example.org/c1/box/a%25b.txt?p_cookie_peer=x&y=1",
    "http://[::1]:3000/c1/__snapshot/s.zip#frag",
    "http://h/c1/__export?#",
    "http://h/c1/a?b#c?d",
    "http://h/c1/a#b?p_cookie_peer=no",
    // An absolute-form request line may carry user info (a Request cannot be built with it).
    "http://user:pass@h:81/c1/x?p_cookie_peer=a%20b",
    "http://h:80/a/../b/./c",
    "http://H%C3%A4.example/x",
  ];
  for (const href of hrefs) {
    it(href, () => {
      const request = { url: new URL(href).href } as Request;
      const url = new URL(href);
      expect(baseUrlOf(noBase, request)).toBe(url.origin);
      expect(rawPathOf(request)).toBe(url.pathname);
      expect(queryParamOf(request, "p_cookie_peer")).toBe(url.searchParams.get("p_cookie_peer"));
    });
  }

  it("prefers the configured base URL, without its trailing slashes", () => {
    const request = new Request("http://127.0.0.1/c1/");
    expect(baseUrlOf({ baseUrl: "https://cells.example.org//" }, request)).toBe("https://cells.example.org");
  });
});
