/**
 * JSON request bodies declared as zod schemas: the same schema validates the body
 * (before the handler runs) and describes it in the API document, so the two cannot
 * drift. Personium answers with specific codes, not a generic "invalid body", so
 * each field names the error for "missing" and for "malformed"; the body's own
 * shape problems follow Personium's quirks, chosen per body.
 */
import { type ErrorCode, PersoniumError } from "@cellport/shared";
import type { Context, MiddlewareHandler } from "hono";
import type { z } from "zod";
import { isJsonObject, readJsonBody } from "./body.ts";

/** A Personium error: its code and message parameters. */
export type ErrorRef = readonly [ErrorCode, readonly (string | number)[]];

export interface FieldErrors {
  /** Absent or null (Personium treats both as missing). Unset: the field is optional and `invalid` covers null too. */
  missing?: ErrorRef;
  /** Present but not what the schema accepts. */
  invalid: ErrorRef;
}

type Shape = z.core.$ZodShape;

export interface JsonBodyOptions<S extends Shape> {
  schema: z.ZodObject<S>;
  /** Every field's errors: an issue on a field without them would have no Personium answer. */
  fieldErrors: { readonly [K in keyof S]: FieldErrors };
  /**
   * An empty (or blank) body: `required` → 400 PR400-CM-0004 quoting the empty body,
   * as Personium parses it too; `empty-object` → validated as `{}`.
   */
  whenAbsent: "required" | "empty-object";
  /** A JSON value that is not an object: `reject` → 400 PR400-CM-0004 quoting it; `empty-object` → `{}`. */
  whenNotObject: "reject" | "empty-object";
  description?: string;
}

export interface JsonBody<S extends Shape = Shape> extends JsonBodyOptions<S> {
  readonly kind: "json-body";
}

export function jsonBody<S extends Shape>(options: JsonBodyOptions<S>): JsonBody<S> {
  return { kind: "json-body", ...options };
}

/** Every error code a body can answer, for the document. */
export function bodyErrorCodes(body: JsonBody): ErrorCode[] {
  const codes = new Set<ErrorCode>(["PR400-CM-0004", "PR413-DV-0001"]);
  for (const errors of Object.values(body.fieldErrors) as FieldErrors[]) {
    if (errors.missing) codes.add(errors.missing[0]);
    codes.add(errors.invalid[0]);
  }
  return [...codes];
}

/** Reads and validates the body of `request`, or throws the Personium error that describes what is wrong. */
export async function parseJsonBody<S extends Shape>(
  body: JsonBody<S>,
  request: Request,
  maxBytes: number,
): Promise<z.infer<z.ZodObject<S>>> {
  const read = await readJsonBody(request, maxBytes);
  let value: Record<string, unknown>;
  if (!read.present) {
    // Personium parses the empty body as JSON too, and quotes it: "JSON parse error. []."
    if (body.whenAbsent === "required") throw new PersoniumError("PR400-CM-0004", [""]);
    value = {};
  } else if (!isJsonObject(read.value)) {
    if (body.whenNotObject === "reject")
      throw new PersoniumError("PR400-CM-0004", [JSON.stringify(read.value)]);
    value = {};
  } else {
    value = read.value;
  }
  const result = body.schema.safeParse(value);
  if (result.success) return result.data;
  // Fields in declaration order: the first bad one answers, as Personium checks them one by one.
  for (const [field, errors] of Object.entries(body.fieldErrors) as [string, FieldErrors][]) {
    if (!result.error.issues.some((issue) => issue.path[0] === field)) continue;
    const absent = value[field] === undefined || value[field] === null;
    const [code, params] = absent && errors.missing ? errors.missing : errors.invalid;
    throw new PersoniumError(code, params);
  }
  throw new Error(`a body issue outside the declared fields: ${result.error.message}`);
}

/** Validated bodies, by request context: set by the middleware, read by `bodyOf`. */
const validated = new WeakMap<Context, { body: JsonBody; value: unknown }>();

/** The middleware `defineResource` puts in front of a handler whose operation declares `body`. */
export function validateJsonBody(body: JsonBody, maxBytes: number): MiddlewareHandler {
  return async function validateJsonBody(c, next) {
    validated.set(c, { body, value: await parseJsonBody(body, c.req.raw, maxBytes) });
    await next();
  };
}

/** The body validated against `body` for this request (the handler's operation must declare it). */
export function bodyOf<S extends Shape>(c: Context, body: JsonBody<S>): z.infer<z.ZodObject<S>> {
  const entry = validated.get(c);
  if (entry?.body !== body) throw new Error("bodyOf: the operation does not declare this body");
  return entry.value as z.infer<z.ZodObject<S>>;
}
