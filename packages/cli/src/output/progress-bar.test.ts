import { describe, expect, it } from "vitest";
import { formatBytes } from "../units.ts";
import { createProgress, renderBar, transferDetail } from "./progress-bar.ts";

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 60, write: (text: string) => chunks.push(text) > 0 } };
}

describe("progress bar", () => {
  it("renders a bar within the terminal width", () => {
    const line = renderBar("export c1/snap", 0.45, "1.20 s", 60);
    expect(line).toMatch(/^export c1\/snap \[█+░+\] {2}45% 1\.20 s$/);
    expect(line.length).toBeLessThanOrEqual(60);
    expect(renderBar("x", Number.NaN)).toContain("  0%");
    expect(renderBar("x", 7)).toContain("100%");
  });

  it("prints plain lines off a terminal, one per step", () => {
    const { chunks, stream } = sink(false);
    const bar = createProgress(stream, "get a.zip", { lineStep: 25 });
    for (const f of [0, 0.1, 0.3, 0.31, 0.6, 1]) bar.update(f);
    bar.finish("done");
    expect(chunks).toEqual([
      "get a.zip 0%\n",
      "get a.zip 30%\n",
      "get a.zip 60%\n",
      "get a.zip 100%\n",
      "done\n",
    ]);
  });

  it("redraws in place on a terminal and clears the line at the end", () => {
    const { chunks, stream } = sink(true);
    const bar = createProgress(stream, "seed", { redrawMs: 0 });
    bar.update(0.5);
    bar.update(1);
    bar.finish();
    expect(chunks[0]).toMatch(/^\rseed \[/);
    expect(chunks.at(-1)).toBe("\r\u001b[K");
  });

  it("describes a transfer", () => {
    expect(transferDetail(1024 ** 2, 4 * 1024 ** 2, 1000, formatBytes)).toBe(
      "1.0 MiB / 4.0 MiB  1.0 MiB/s  eta 3s",
    );
    expect(transferDetail(10, undefined, 0, formatBytes)).toBe("10 B  0 B/s");
  });
});
