/**
 * Personium error codes and message templates (spec §8). Data, not classes: the api
 * turns a code + params into a response in one place, and the worker writes the same
 * body into `{Name}.error` files. The HTTP status is the three digits after `PR`.
 */
export const ERRORS = {
  "PR400-CM-0001": "Required key [{0}] missing.",
  "PR400-CM-0002": "Field [{0}] format error. Must be [{1}].",
  "PR400-CM-0004": "JSON parse error. [{0}].",
  "PR400-MC-0001": "[{0}] does not exist in the snapshot file.",
  "PR400-MC-0003": "Version of the snapshot file is invalid. Expected [{0}] but was [{1}].",
  "PR400-MC-0004": "The specified snapshot file is not zip file.",
  "PR400-EV-0002": "Request header is invalid [{0}].",
  "PR400-DV-0001": "XML parse error.",
  "PR400-DV-0003": "Invalid depth header value:[{0}].",
  "PR400-OD-0006": "Field [{0}] format error. Must be [{1}].",
  "PR401-AU-0001": "Authorization required.",
  "PR401-AU-0002": "Access token expired.",
  "PR401-AU-0006": "Token parse error.",
  "PR401-AU-0009": "Authentication failed.",
  "PR403-AU-0002": "Necessary privilege is lacking.",
  "PR403-AU-0007": "Insufficient scope is granted for the access token. [{0}] Privilege is required.",
  "PR403-DV-0001": "Infinite depth is not supported.",
  "PR404-DV-0001": "Resource not found. [{0}].",
  "PR404-DV-0003": "Cell not found.",
  "PR404-CM-0001": "No such endpoint.",
  "PR405-MC-0001": "Method not allowed.",
  "PR409-CM-0002": "Because [{0}] is being executed, writing to cell can not be done.",
  "PR409-DV-0002": "File [{0}] already exists.",
  "PR409-OD-0003": "The entity already exists.",
  "PR412-DV-0001": "ETag does not match.",
  "PR413-DV-0001": "Request entity too large.",
  "PR500-SV-0000": "Unknown error.",
  "PR500-SV-9999": "Unknown Exception",
  "PR501-MC-0001": "Method not implemented.",
  "PR503-SV-0001": "Service unavailable: the queue backend cannot be reached.",
  // Box WebDAV (spec §9), with Personium's codes and texts.
  "PR403-DV-0003": "Cannot delete collection if it has any child resources.",
  // Personium throws it without parameters: its message keeps the `{0}`.
  "PR403-DV-0004": "Resource name is invalid [{0}].",
  "PR405-DV-0001": "Method not allowed. MKCOL can only be executed on a deleted/non-existent resource.",
  "PR409-DV-0001": "intermediate collection [{0}] should be created first.",
  "PR416-DV-0001": "Requested range not satisfiable.",
  // cellport's own codes use the 9xxx range so they never collide with Personium's.
  "PR400-DV-9001": "Invalid request path [{0}].",
  "PR503-SV-9001": "Service unavailable: {0}.",
  // Snapshot archive defences (spec §4.3), worded like Personium's bar-file errors.
  "PR400-MC-9001": "Invalid entry [{0}] in the snapshot file: {1}.",
  "PR400-MC-9002": "Snapshot file entry size too large [{0}, {1}B].",
  "PR400-MC-9003": "Snapshot file size too large [{0}B].",
  "PR400-MC-9004": "Too many entries in the snapshot file [{0}].",
  "PR400-MC-9005": "[{0}] file format error in the snapshot file: {1}.",
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** The JSON body of every Personium error response and of `.error` files. */
export interface PersoniumErrorBody {
  code: string;
  message: { lang: "en"; value: string };
}

export function formatMessage(code: ErrorCode, params: readonly (string | number)[] = []): string {
  return ERRORS[code].replace(/\{(\d+)\}/g, (whole, index: string) => {
    const value = params[Number(index)];
    return value === undefined ? whole : String(value);
  });
}

export function errorBody(code: ErrorCode, params: readonly (string | number)[] = []): PersoniumErrorBody {
  return { code, message: { lang: "en", value: formatMessage(code, params) } };
}

/** HTTP status of a Personium code: the three digits after `PR`. */
export function statusOf(code: string): number {
  const match = /^PR(\d{3})-/.exec(code);
  return match ? Number(match[1]) : 500;
}

/**
 * A failure that maps to a Personium error. Routes and pipelines throw it; the api's
 * single error handler and the worker's `.error` writer turn it into a body.
 */
export class PersoniumError extends Error {
  readonly code: ErrorCode;
  readonly params: readonly (string | number)[];
  readonly status: number;
  /** Extra response headers (e.g. `WWW-Authenticate` on 401). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    params: readonly (string | number)[] = [],
    headers: Record<string, string> = {},
  ) {
    super(formatMessage(code, params));
    this.name = "PersoniumError";
    this.code = code;
    this.params = params;
    this.status = statusOf(code);
    this.headers = headers;
  }

  toBody(): PersoniumErrorBody {
    return errorBody(this.code, this.params);
  }
}
