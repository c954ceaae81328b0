/**
 * What a resource says about itself for the API description (`GET /openapi.json`).
 * Resources declare it where they declare their methods (`defineResource`), and the
 * description is attached to the route handlers Hono actually serves, so the
 * document is built from the router itself (openapi.ts) and cannot list a route
 * that does not exist or miss one that does.
 */
import type { ErrorCode } from "@cellport/shared";
import { z } from "zod";
import type { JsonBody } from "./json-body.ts";

/**
 * Who may call, as documented (the guard is what enforces it):
 * - `cell-root`: the cell's `root` privilege — a cell token, the master token, or a p_cookie
 * - `unit-master`: the unit master token
 * - `any-token`: any valid token, master or cell
 * - `dashboard`: the master token as a Bearer token or as the HTTP Basic password
 * - `none`: unauthenticated
 */
export type Access = "cell-root" | "unit-master" | "any-token" | "dashboard" | "none";

export interface ResponseDoc {
  description: string;
  /** A JSON body, documented from this schema. */
  json?: z.ZodType;
  /** Other bodies: media type → JSON Schema of the body (`{}` for "any"). */
  content?: Record<string, Record<string, unknown>>;
  /** Response header → what it carries. */
  headers?: Record<string, string>;
}

export interface OperationDoc {
  summary: string;
  description?: string;
  /** A JSON body: validated by `defineResource` before the handler runs, and documented from the same schema. */
  body?: JsonBody;
  /** Any other request body (uploads, WebDAV XML): documented only. */
  rawBody?: { mediaType: string; description: string; required?: boolean };
  /** Query parameter → what it means. */
  query?: Record<string, string>;
  /** Request header → what it means. */
  headers?: Record<string, string>;
  /** Success (and other non-error) responses by status. */
  responses: Record<number, ResponseDoc | string>;
  /** Personium errors the operation itself answers; auth, body and cell errors are added from `Access` and `body`. */
  errors?: readonly ErrorCode[];
}

export interface ResourceDoc {
  /** Groups operations in the document (and the docs page's sidebar). */
  tag: string;
  access: Access;
  /** Path parameter (Hono's name; `path` for a trailing `*`) → what it means. */
  params?: Record<string, string>;
  /** The path to document instead of the route's own (e.g. a mount point whose routes are not ours). */
  path?: string;
}

/** A resource as served: its declared methods (undocumented ones map to undefined) and its description. */
export interface ResourceDescription {
  operations: Readonly<Record<string, OperationDoc | undefined>>;
  doc?: ResourceDoc;
}

const descriptions = new WeakMap<object, ResourceDescription>();

/** Marks `handler` as serving `description`; returns the handler. */
export function describeRoute<F extends object>(description: ResourceDescription, handler: F): F {
  descriptions.set(handler, description);
  return handler;
}

export function descriptionOf(handler: object): ResourceDescription | undefined {
  return descriptions.get(handler);
}

const names = new WeakMap<z.ZodType, string>();

/** Names a schema: the document puts it in `components.schemas` and refers to it by `$ref`. */
export function named<S extends z.ZodType>(name: string, schema: S): S {
  names.set(schema, name);
  return schema;
}

export function nameOf(schema: z.ZodType): string | undefined {
  return names.get(schema);
}

/** Every error body (spec §2.1). */
export const PersoniumErrorSchema = named(
  "PersoniumError",
  z.object({
    code: z
      .string()
      .meta({ description: "Personium error code; the HTTP status is the three digits after PR" }),
    message: z.object({ lang: z.literal("en"), value: z.string() }),
  }),
);
