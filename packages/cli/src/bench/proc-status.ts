/** Reads memory figures from a Linux `/proc/<pid>/status` text. */

export interface ProcStatus {
  /** Peak resident set size ("high water mark"), bytes; null when unknown. */
  vmHwmBytes: number | null;
  vmRssBytes: number | null;
}

function kilobytes(text: string, field: string): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(text);
  return match ? Number(match[1]) * 1024 : null;
}

export function parseProcStatus(text: string): ProcStatus {
  return { vmHwmBytes: kilobytes(text, "VmHWM"), vmRssBytes: kilobytes(text, "VmRSS") };
}
