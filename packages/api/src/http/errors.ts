/**
 * The one map from a thrown error to a Personium error response (spec §2.1). Routes
 * only throw; `app.onError` and the pre-routing pipeline both end here.
 */
import { QueueUnavailableError } from "@cellport/queue";
import { PersoniumError } from "@cellport/shared";
import {
  AlreadyExistsError,
  CellExistsError,
  CellNotFoundError,
  ConflictError,
  InvalidNameError,
  InvalidPathError,
  NotFoundError,
  PreconditionFailedError,
  RangeNotSatisfiableError,
  TooLargeError,
} from "@cellport/store";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "pino";

export interface ErrorContext {
  method: string;
  /** Public URL of the requested resource (PR404-DV-0001 names it). */
  resourceUrl: string;
  /** Raw request path (PR400-DV-9001 names it). */
  path: string;
}

function parentUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, "");
  return trimmed.slice(0, trimmed.lastIndexOf("/") + 1);
}

/** The Personium error an error stands for, or null when it is unexpected (→ 500). */
export function toPersoniumError(error: unknown, context: ErrorContext): PersoniumError | null {
  if (error instanceof PersoniumError) return error;
  if (error instanceof InvalidPathError || error instanceof InvalidNameError) {
    return new PersoniumError("PR400-DV-9001", [context.path]);
  }
  if (error instanceof NotFoundError) return new PersoniumError("PR404-DV-0001", [context.resourceUrl]);
  if (error instanceof CellNotFoundError) return new PersoniumError("PR404-DV-0003");
  if (error instanceof CellExistsError) return new PersoniumError("PR409-OD-0003");
  if (error instanceof PreconditionFailedError) return new PersoniumError("PR412-DV-0001");
  if (error instanceof TooLargeError) return new PersoniumError("PR413-DV-0001");
  if (error instanceof RangeNotSatisfiableError) {
    return new PersoniumError("PR416-DV-0001", [], { "Content-Range": `bytes */${error.size}` });
  }
  // RFC 4918 §9.3.1: MKCOL on an existing resource is 405.
  if (error instanceof AlreadyExistsError) return new PersoniumError("PR405-DV-0001");
  if (error instanceof ConflictError) {
    // The store raises one conflict class; the operation says which one it was:
    // deleting a non-empty collection (Personium: 403) or writing under a missing parent (409).
    return context.method === "DELETE"
      ? new PersoniumError("PR403-DV-0003")
      : new PersoniumError("PR409-DV-0001", [parentUrl(context.resourceUrl)]);
  }
  if (error instanceof QueueUnavailableError) return new PersoniumError("PR503-SV-0001");
  if (error instanceof HTTPException && error.status === 413) return new PersoniumError("PR413-DV-0001");
  return null;
}

export function personiumErrorResponse(error: PersoniumError): Response {
  const headers = new Headers(error.headers);
  headers.set("Content-Type", "application/json");
  return new Response(JSON.stringify(error.toBody()), { status: error.status, headers });
}

/** Maps and logs. Unexpected errors are logged whole but answered with a bare 500 (no stack, no message). */
export function errorResponse(error: unknown, context: ErrorContext & { log: Logger }): Response {
  const mapped = toPersoniumError(error, context);
  if (mapped) {
    if (mapped.status >= 500) context.log.warn({ err: error, code: mapped.code }, "request failed");
    return personiumErrorResponse(mapped);
  }
  context.log.error({ err: error }, "unexpected error");
  return personiumErrorResponse(new PersoniumError("PR500-SV-9999"));
}
