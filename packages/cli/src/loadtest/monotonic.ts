/**
 * Detects progress that goes backwards within one export (spec §3.2: "never
 * decreasing within one attempt"), from status polls made concurrently by several
 * pollers. Responses can overtake each other on the wire, so only a causal pair
 * counts: poll B reports less than poll A although B was *sent after A's answer
 * arrived*. Anything else is ordinary network reordering, not a server fault.
 */

export interface ProgressObservation {
  /** Identifies one export: cell + snapshot name. */
  key: string;
  percent: number;
  sentAt: number;
  receivedAt: number;
}

export interface Regression {
  key: string;
  before: number;
  after: number;
  at: number;
}

export function createMonotonicChecker() {
  /** Per export: observations so far (kept short: one export sees a few hundred polls at most). */
  const seen = new Map<string, Array<{ receivedAt: number; percent: number }>>();
  const regressions: Regression[] = [];

  return {
    observe(o: ProgressObservation): Regression | null {
      let list = seen.get(o.key);
      if (!list) {
        list = [];
        seen.set(o.key, list);
      }
      let highest = -1;
      for (const earlier of list) {
        if (earlier.receivedAt < o.sentAt && earlier.percent > highest) highest = earlier.percent;
      }
      list.push({ receivedAt: o.receivedAt, percent: o.percent });
      if (highest > o.percent) {
        const regression = { key: o.key, before: highest, after: o.percent, at: o.receivedAt };
        regressions.push(regression);
        return regression;
      }
      return null;
    },
    /** Frees the memory of a finished export. */
    forget(key: string): void {
      seen.delete(key);
    },
    get regressions(): readonly Regression[] {
      return regressions;
    },
  };
}

export type MonotonicChecker = ReturnType<typeof createMonotonicChecker>;
