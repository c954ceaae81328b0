/** Reads one sample from a Prometheus text exposition (the api's and worker's `/metrics`). */

/** The value of `name` (with exactly these labels, when given); null when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | null {
  const wanted = Object.entries(labels);
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (wanted.every(([key, value]) => present[key] === value)) {
      const value = Number(match[3]);
      return Number.isFinite(value) ? value : null;
    }
  }
  return null;
}
