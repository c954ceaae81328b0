/**
 * One access-log line per request. Deliberately built from a fixed field list: no
 * headers, no query string (it may carry `p_cookie_peer`), so an Authorization
 * header, cookie or token can never reach the log — which is also why it is written
 * without the logger's redaction pass (see createUnredactedSibling).
 */
import type { Logger } from "pino";

export interface AccessLogEntry {
  requestKey: string;
  method: string;
  /** The method the client sent, when an override changed it. */
  originalMethod?: string;
  path: string;
  status: number;
  durationMs: number;
}

export function logAccess(log: Logger, entry: AccessLogEntry): void {
  const level = entry.status >= 500 ? "error" : "info";
  log[level](entry, "request");
}
