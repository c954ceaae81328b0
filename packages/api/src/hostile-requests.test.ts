/**
 * Properties of the whole app under generated, mostly hostile requests — names,
 * paths (encoded `..`, `/`, NUL, backslashes, unicode, very long), JSON and XML
 * bodies, and the headers that steer it (X-Personium-RequestKey, X-Override,
 * X-HTTP-Method-Override, Authorization and p_cookie, Depth, Range, If-Match):
 *
 * - never a 500 (nor any 5xx but 501), and every error is a Personium body whose
 *   code matches the status;
 * - never a hang: each request, body included, settles within a deadline;
 * - never a file outside the addressed cell: the data dir's tree is compared before
 *   and after each request, and changes may only be in that cell's directory (or,
 *   for the unit-level cell API, in the named cell's);
 * - the same for hostile snapshot archives through POST `__import`: a validation
 *   error or an accepted job, never a 500, never a file written.
 *
 * In-process (`createApp` through the test app: a real fs store in a temp dir and
 * the real job backend on Redis under a unique prefix). Runs are bounded for CI.
 */
import { Readable } from "node:stream";
import { isValidCellName } from "@cellport/shared";
import { buildHostileArchive, hostileArchive } from "@cellport/snapshot/hostile-zips";
import { buildZip, minimalSnapshotEntries } from "@cellport/snapshot/testing";
import { changedPaths, treeState } from "@cellport/store/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintPCookie } from "./auth/tokens.ts";
import {
  cellToken,
  createTestApp,
  MASTER_TOKEN,
  type TestApp,
  TOKEN_SECRET,
} from "./test-helpers/test-app.ts";

/** Settles or fails the request: a handler that never answers must not hang the suite. */
const REQUEST_DEADLINE_MS = 5_000;
const REQUEST_RUNS = 400;
const ARCHIVE_RUNS = 120;

/** c1 is free, c2 is held by a queued export (its writes answer 409). */
const FREE = "c1";
const HELD = "c2";

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await restoreFixtures();
});

afterAll(async () => {
  await t?.close();
});

/** Brings the cells back to the state every run starts from (a run may delete, lock or unlock them). */
async function restoreFixtures(): Promise<void> {
  const { store } = t.deps;
  for (const cell of [FREE, HELD]) {
    if (!(await store.getCell(cell))) await store.createCell(cell);
    if (!(await store.snapshots.stat(cell, "good.zip"))) {
      await store.snapshots.put(cell, "good.zip", Readable.from([await buildZip(minimalSnapshotEntries())]));
    }
    if (!(await store.stat(cell, "__/docs").catch(() => null))) await store.mkcol(cell, "__/docs");
    if (!(await store.stat(cell, "__/docs/a.txt").catch(() => null))) {
      await store.putFile(cell, "__/docs/a.txt", Readable.from([Buffer.from("hello, cell")]), {
        contentType: "text/plain",
      });
    }
  }
  await t.releaseCell(FREE, "export");
  await t.releaseCell(FREE, "import");
  const held = await t.deps.jobs.current(HELD);
  if (held?.data.kind !== "export") {
    await t.releaseCell(HELD, "import");
    await t.holdCell(HELD, "export");
  }
}

/**
 * Where a request may change files: its cell's directory; for the unit-level cell
 * API, the named cell's, and the store's staging and trash areas (create and delete
 * pass through them). Nothing else, ever.
 */
function allowedChange(pathname: string, changed: string): boolean {
  const segments = pathname.split("/").slice(1);
  const first = safeDecode(segments[0] ?? "");
  const cellsOf = (cell: string) =>
    changed === `data/cells/${cell}` || changed.startsWith(`data/cells/${cell}/`);
  if (first === "__ctl") {
    const named = /Cell\('([^']*)'\)/.exec(safeDecode(segments[1] ?? ""))?.[1];
    return (
      changed === "data/cells" ||
      /^data\/(\.staging|\.trash)(\/|$)/.test(changed) ||
      /^data\/cells\/[^/]+(\/|$)/.test(changed) ||
      (named !== undefined && cellsOf(named))
    );
  }
  return isValidCellName(first) && cellsOf(first);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// --- generated requests --------------------------------------------------------

const METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "OPTIONS",
  "PROPFIND",
  "MKCOL",
  "REPORT",
  "PATCH",
  "MOVE",
  "COPY",
  "LOCK",
  "FOO",
];

const hostileSegment = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "..",
      "%2e%2e",
      ".%2E",
      "%2F",
      "..%2F..%2F..%2Fetc%2Fpasswd",
      "%00",
      "a%00b",
      "%5C..%5C",
      "..%5C..",
      "%252e%252e",
      "%C0%AE%C0%AE",
      "%E2%80%AE",
      "%",
      "%zz",
      "ü",
      "x".repeat(300),
      "good.zip",
      "good.zip%00.txt",
      "x.error",
      "docs",
      "a.txt",
      "Cell('c1')",
      "Cell('..')",
      "Cell('c3')",
      "history",
      ".pmeta",
      "content",
      ".tmp",
      ".meta",
      "",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) },
);

/** `arbitrary` in `percent` % of the runs, else undefined: most requests stay plausible enough to reach a handler. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { weight: 100 - percent, arbitrary: fc.constant(undefined) },
    { weight: percent, arbitrary },
  );
}

/** Cell names: mostly the fixtures, sometimes names that must never resolve. */
const cellName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(FREE, HELD) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "c3",
      "nosuch",
      "C1",
      "-x",
      "%63%31",
      "..",
      "%2e%2e",
      "__ctl",
      "a".repeat(130),
      "%00",
    ),
  },
);

const fileName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("good.zip", "new.zip", "x.error", "new.bin", "good") },
  { weight: 2, arbitrary: hostileSegment },
);

const treePath = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("docs", "docs/a.txt", "docs/new.txt", "new", "docs/sub") },
  { weight: 2, arbitrary: fc.array(hostileSegment, { minLength: 1, maxLength: 3 }).map((s) => s.join("/")) },
);

/** Resources and the methods they answer; generated requests mostly pair them sensibly. */
const routes: Array<[fc.Arbitrary<string>, readonly string[]]> = [
  [cellName.map((c) => `${c}/__export`), ["GET", "POST", "POST", "DELETE", "OPTIONS"]],
  [cellName.map((c) => `${c}/__export/history`), ["GET"]],
  [cellName.map((c) => `${c}/__import`), ["GET", "POST", "POST", "OPTIONS"]],
  [cellName.map((c) => `${c}/__snapshot`), ["PROPFIND", "OPTIONS"]],
  [
    fc.tuple(cellName, fileName).map(([c, f]) => `${c}/__snapshot/${f}`),
    ["GET", "HEAD", "PUT", "DELETE", "PROPFIND", "REPORT"],
  ],
  [
    fc.tuple(cellName, treePath).map(([c, p]) => `${c}/__/${p}`),
    ["GET", "HEAD", "PUT", "DELETE", "MKCOL", "PROPFIND"],
  ],
  [fc.constant("__ctl/Cell"), ["GET", "POST"]],
  [cellName.map((c) => `__ctl/Cell('${c}')`), ["GET", "DELETE"]],
  [fc.constant("__ctl/p_cookie"), ["POST"]],
  [fc.constantFrom("healthz", "readyz"), ["GET"]],
];

const query = fc.constantFrom("", "", "", "", "?p_cookie_peer=peer1", "?p_cookie_peer=%00", "?x=%2F..");

const target = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .oneof(...routes.map(([path, methods]) => fc.tuple(path, fc.constantFrom(...methods))))
      .chain(([path, method]) => query.map((q) => ({ path: `/${path}${q}`, method }))),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.oneof(...routes.map(([path]) => path)),
        fc.array(hostileSegment, { maxLength: 2 }),
        query,
        fc.constantFrom(...METHODS),
      )
      .map(([path, extra, q, method]) => ({ path: `/${[path, ...extra].join("/")}${q}`, method })),
  },
);

const headerText = fc.string({
  maxLength: 40,
  unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
});

const authorization = fc.oneof(
  fc.constantFrom(
    `Bearer ${MASTER_TOKEN}`,
    `Bearer ${cellToken(FREE)}`,
    `Bearer ${cellToken(HELD)}`,
    `Bearer ${cellToken(FREE, ["read"])}`,
    `Bearer ${cellToken(FREE, ["root"], { scope: "read" })}`,
    `Bearer ${cellToken(FREE, ["root"], { ttlSeconds: -60 })}`,
    `Bearer ${cellToken(FREE, ["root"], { secret: "another-secret-0123456789abcdef0123456789" })}`,
    "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJjZWxsIjoiYzEiLCJwcml2aWxlZ2VzIjpbInJvb3QiXX0.",
    "Bearer ",
    "Bearer a.b.c",
    "Basic dXNlcjpwYXNz",
    "",
  ),
  headerText.map((s) => `Bearer ${s}`),
);

const headerValue = (known: readonly string[]) =>
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: headerText });

const overrideLine = fc
  .tuple(
    fc.constantFrom(
      "Authorization",
      "Depth",
      "Range",
      "If-Match",
      "Content-Type",
      "X-Personium-RequestKey",
      "X-HTTP-Method-Override",
      "",
      "  ",
      "X-Override",
    ),
    fc.oneof(authorization, headerText),
    fc.constantFrom(": ", ":", " : ", ""),
  )
  .map(([name, value, colon]) => `${name}${colon}${value}`);

const headers = fc.record({
  "X-Personium-RequestKey": sometimes(
    headerValue(["", "key_1", "a".repeat(128), "a".repeat(129), "bad key", "ключ"]),
    15,
  ),
  "X-Override": sometimes(
    fc.array(overrideLine, { minLength: 1, maxLength: 3 }).map((lines) => lines.join(", ")),
    15,
  ),
  "X-HTTP-Method-Override": sometimes(headerValue(METHODS), 10),
  Authorization: sometimes(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(`Bearer ${MASTER_TOKEN}`, `Bearer ${cellToken(FREE)}`) },
      { weight: 1, arbitrary: authorization },
    ),
    90,
  ),
  Depth: sometimes(headerValue(["0", "1", "1", "infinity", "Infinity", "2", "-1", "", "1, 1"]), 50),
  Range: sometimes(
    headerValue([
      "bytes=0-10",
      "bytes=-5",
      "bytes=5-",
      "bytes=10-0",
      "bytes=0-0,2-3",
      "bytes=99999999999999999999-",
      "bytes=",
      "items=0-1",
      "bytes=-0",
    ]),
    25,
  ),
  "If-Match": sometimes(headerValue(["*", '"1-1"', 'W/"1-1"', '"', "garbage", ""]), 20),
  "If-None-Match": sometimes(headerValue(["*", '"1-1"', ""]), 15),
  "Content-Type": sometimes(
    headerValue([
      "application/json",
      "text/plain;charset=UTF-8",
      "application/xml",
      "application/zip",
      "multipart/form-data; boundary=x",
    ]),
    30,
  ),
  Cookie: sometimes(
    headerValue([
      `p_cookie=${mintPCookie({ secret: TOKEN_SECRET, token: MASTER_TOKEN, peer: "peer1" })}`,
      `p_cookie=${mintPCookie({ secret: TOKEN_SECRET, token: MASTER_TOKEN, peer: "other" })}`,
      "p_cookie=garbage",
      "p_cookie=",
    ]),
    10,
  ),
});

const PROPFIND_BODIES = [
  '<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>',
  '<propfind xmlns="DAV:"><prop><getcontentlength/></prop></propfind>',
  "<propfind",
  '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><propfind xmlns="DAV:">&e;</propfind>',
  '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><propfind xmlns="DAV:">&c;</propfind>',
];

const jsonValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);

const body = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          Name: fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom("good", "snap_1", "snap_2", "new", "c3", "hostile") },
            {
              weight: 2,
              arbitrary: fc.constantFrom("../x", "a/b", "a\u0000", "x".repeat(193), "", "C1", "-x"),
            },
            { weight: 1, arbitrary: fc.string() },
            { weight: 1, arbitrary: jsonValue },
          ),
          p_cookie_peer: fc.constantFrom("peer1", "", "\u0000"),
        },
        { requiredKeys: [] },
      )
      .map((o) => JSON.stringify(o)),
  },
  { weight: 1, arbitrary: fc.json({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom(...PROPFIND_BODIES) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)) },
  // Past the JSON limit (16 KiB here): 413, not a crash.
  { weight: 1, arbitrary: fc.constant(JSON.stringify({ Name: "n".repeat(20_000) })) },
);

const request = fc
  .record({ target, headers, body })
  .map(({ target, headers, body }) => ({ ...target, headers, body }));

type GeneratedRequest = typeof request extends fc.Arbitrary<infer R> ? R : never;

function toRequest(generated: GeneratedRequest): Request | null {
  let url: URL;
  try {
    url = new URL(`http://localhost${generated.path}`);
  } catch {
    return null;
  }
  const headerList = new Headers();
  for (const [name, value] of Object.entries(generated.headers)) {
    if (value === undefined) continue;
    try {
      headerList.set(name, value);
    } catch {
      // Not a valid header value for fetch (it cannot be sent either).
    }
  }
  const canHaveBody = generated.method !== "GET" && generated.method !== "HEAD";
  try {
    return new Request(url, {
      method: generated.method,
      headers: headerList,
      ...(canHaveBody && generated.body !== undefined ? { body: generated.body } : {}),
    });
  } catch {
    return null;
  }
}

/** The response, its body read to the end, within the deadline (or a failure naming the request). */
async function send(req: Request): Promise<{ res: Response; text: string }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`no complete answer within ${REQUEST_DEADLINE_MS} ms: ${req.method} ${req.url}`)),
      REQUEST_DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([
      (async () => {
        const res = await t.app.fetch(req);
        return { res, text: await res.text() };
      })(),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function expectPersoniumAnswer(req: Request, res: Response, text: string): void {
  const what = `${req.method} ${new URL(req.url).pathname} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status < 500 || res.status === 501, what).toBe(true);
  expect(res.headers.get("x-personium-version"), what).toBeTruthy();
  if (res.status >= 400 && req.method !== "HEAD" && text.length > 0) {
    const error = JSON.parse(text) as { code?: unknown; message?: { lang?: unknown; value?: unknown } };
    expect(String(error.code), what).toMatch(new RegExp(`^PR${res.status}-[A-Z]{2}-\\d{4}$`));
    expect(typeof error.message?.value, what).toBe("string");
  }
}

describe("hostile requests (property)", () => {
  it("never a 5xx, never a hang, never a file outside the addressed cell", async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(request, async (generated) => {
        const req = toRequest(generated);
        if (!req) return;
        sent++;
        const before = await treeState(t.root);
        const { res, text } = await send(req);
        expectPersoniumAnswer(req, res, text);
        const pathname = new URL(req.url).pathname;
        const outside = changedPaths(before, await treeState(t.root)).filter(
          (p) => !allowedChange(pathname, p),
        );
        expect(outside, `${req.method} ${pathname} → ${res.status}`).toEqual([]);
        await restoreFixtures();
      }),
      { numRuns: REQUEST_RUNS },
    );
    expect(sent).toBeGreaterThan(REQUEST_RUNS * 0.9);
  }, 120_000);

  it("the logs never carry the master token, whatever the requests held", () => {
    expect(t.logLines.join("\n")).not.toContain(MASTER_TOKEN);
  });
});

describe("hostile archives through POST __import (property)", () => {
  it("a validation error or an accepted job — never a 5xx, never a file written", async () => {
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(hostileArchive, async (spec) => {
        await t.deps.store.snapshots.put(
          FREE,
          "hostile.zip",
          Readable.from([await buildHostileArchive(spec)]),
        );
        const before = await treeState(t.root);
        const req = new Request(`http://localhost/${FREE}/__import`, {
          method: "POST",
          headers: { Authorization: `Bearer ${MASTER_TOKEN}` },
          body: JSON.stringify({ Name: "hostile" }),
        });
        const { res, text } = await send(req);
        expectPersoniumAnswer(req, res, text);
        expect([202, 400], text).toContain(res.status);
        const code = res.status === 202 ? "202" : (JSON.parse(text) as { code: string }).code;
        codes.set(code, (codes.get(code) ?? 0) + 1);
        // Validation reads; it never writes (the accepted job would, in a worker).
        expect(changedPaths(before, await treeState(t.root))).toEqual([]);
        await t.deps.store.snapshots.delete(FREE, "hostile.zip");
        await restoreFixtures();
      }),
      { numRuns: ARCHIVE_RUNS },
    );
    // Hostile enough to be refused for many reasons, not one.
    expect(codes.size, JSON.stringify([...codes])).toBeGreaterThan(3);
  }, 60_000);
});
