/**
 * The CLI's failure modes and the exit code of each. Scripts rely on these codes, so
 * they are documented in README.md ("CLI") and never change meaning:
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | the server or the operation failed (5xx, export/import failed, auth refused, network, threshold crossed) |
 * | 2 | usage error (bad command line, or a 400 the server answered to what we sent) |
 * | 3 | not found (404: cell, snapshot, nothing to cancel) |
 * | 4 | conflict / busy (409 cell busy or already exists, 412 ETag mismatch) |
 * | 130 | interrupted (Ctrl-C); a watched export or import keeps running on the server |
 */
import type { PersoniumErrorBody } from "@cellport/shared";

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Base class: every CLI error carries its exit code and a one-line message. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = EXIT.failure) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** The command line itself is wrong. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** Ctrl-C while waiting. */
export class InterruptedError extends CliError {
  constructor(message = "interrupted") {
    super(message, EXIT.interrupted);
  }
}

/** A finished operation reported failure (export ended with an error, verification failed, …). */
export class OperationFailedError extends CliError {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message, EXIT.failure);
  }
}

export function exitCodeForStatus(status: number): ExitCode {
  if (status === 404) return EXIT.notFound;
  if (status === 409 || status === 412) return EXIT.conflict;
  if (status === 400 || status === 405 || status === 413) return EXIT.usage;
  return EXIT.failure;
}

/** A non-2xx answer from the api, with the Personium code when the body carried one. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly body: PersoniumErrorBody | null,
    readonly requestLabel: string,
  ) {
    super(
      body ? `${body.code} ${body.message.value}` : `HTTP ${status} from ${requestLabel}`,
      exitCodeForStatus(status),
    );
  }

  get code(): string | undefined {
    return this.body?.code;
  }
}

/** The api could not be reached at all. */
export class NetworkError extends CliError {
  constructor(url: string, cause: unknown) {
    const reason = describeCause(cause);
    super(`cannot reach ${url}: ${reason}`, EXIT.failure);
  }
}

function describeCause(cause: unknown): string {
  const own = (cause as { code?: unknown } | null)?.code;
  if (typeof own === "string") return own;
  const inner = (cause as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (inner?.code) return inner.code;
  if (inner?.message) return inner.message;
  return cause instanceof Error ? cause.message : String(cause);
}

/** Parses a Personium error body, or null when the text is not one. */
export function parseErrorBody(text: string): PersoniumErrorBody | null {
  try {
    const value = JSON.parse(text) as Partial<PersoniumErrorBody> | null;
    if (typeof value?.code === "string" && typeof value.message?.value === "string") {
      return { code: value.code, message: { lang: "en", value: value.message.value } };
    }
  } catch {
    // not JSON: the caller falls back to the HTTP status
  }
  return null;
}

/**
 * The one line printed for any failure: the Personium code and message when there is
 * one, else the message. Never a stack trace, whatever was thrown.
 */
export function errorLine(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (error instanceof Error) return `${error.name === "Error" ? "" : `${error.name}: `}${error.message}`;
  return String(error);
}

export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof CliError ? error.exitCode : EXIT.failure;
}
