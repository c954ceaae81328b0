/**
 * The OpenAPI 3.1 document, built from the router itself: every route that carries
 * a resource description (resource.ts attaches one to each resource's routes) becomes
 * a path item, and every schema comes from the zod schemas that validate requests —
 * via zod 4's `z.toJSONSchema`, JSON Schema 2020-12, which is OpenAPI 3.1's own
 * dialect. Nothing here is written by hand per route, so the document cannot drift
 * from what the app serves.
 *
 * WebDAV methods (PROPFIND, MKCOL, REPORT) have no field in a 3.1 path item: they go
 * under `x-additionalOperations`, the shape OpenAPI 3.2 standardises as
 * `additionalOperations`.
 */
import { ERRORS, type ErrorCode } from "@cellport/shared";
import type { Hono } from "hono";
import type { Env } from "hono/types";
import { z } from "zod";
import {
  type Access,
  descriptionOf,
  nameOf,
  type OperationDoc,
  PersoniumErrorSchema,
  type ResourceDoc,
  type ResponseDoc,
} from "./api-doc.ts";
import { bodyErrorCodes } from "./json-body.ts";

type JsonObject = Record<string, unknown>;

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
  tags?: ReadonlyArray<{ name: string; description: string }>;
}

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description?: string };
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonObject>; securitySchemes: Record<string, JsonObject> };
}

/** Path item fields of OpenAPI 3.1; any other method is an additional operation. */
const PATH_ITEM_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);
export const ADDITIONAL_OPERATIONS = "x-additionalOperations";

/** The parameter name a trailing `*` gets in the document. */
const WILDCARD_PARAM = "path";

const SECURITY_SCHEMES: Record<string, JsonObject> = {
  masterToken: {
    type: "http",
    scheme: "bearer",
    description: "The unit master token (`CELLPORT_MASTER_TOKEN`): every cell and the unit-level API.",
  },
  cellToken: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      'A cell token: HS256 JWT with claims `cell`, `sub`, `privileges` (e.g. `["root"]`), `scope`, `exp`.',
  },
  pCookie: {
    type: "apiKey",
    in: "cookie",
    name: "p_cookie",
    description:
      "Used only without an `Authorization` header, together with the `p_cookie_peer` query parameter; `POST /__ctl/p_cookie` issues one.",
  },
  pCookiePeer: { type: "apiKey", in: "query", name: "p_cookie_peer" },
  masterTokenBasic: {
    type: "http",
    scheme: "basic",
    description: "HTTP Basic with any user name and the master token as the password (for browsers).",
  },
};

const SECURITY: Record<Access, JsonObject[]> = {
  "cell-root": [{ cellToken: [] }, { masterToken: [] }, { pCookie: [], pCookiePeer: [] }],
  "unit-master": [{ masterToken: [] }],
  "any-token": [{ masterToken: [] }, { cellToken: [] }],
  dashboard: [{ masterToken: [] }, { masterTokenBasic: [] }],
  none: [],
};

/** Errors every operation of that access can answer before it runs (spec §2.5, §2.6). */
const ACCESS_ERRORS: Record<Access, readonly ErrorCode[]> = {
  "cell-root": [
    "PR401-AU-0001",
    "PR401-AU-0002",
    "PR401-AU-0006",
    "PR401-AU-0009",
    "PR403-AU-0002",
    "PR403-AU-0007",
    "PR404-DV-0003",
  ],
  "unit-master": ["PR401-AU-0001", "PR401-AU-0002", "PR401-AU-0006", "PR401-AU-0009", "PR403-AU-0002"],
  "any-token": ["PR401-AU-0001", "PR401-AU-0002", "PR401-AU-0006", "PR401-AU-0009"],
  dashboard: ["PR401-AU-0001", "PR401-AU-0006", "PR403-AU-0002"],
  none: [],
};

/**
 * `/:cell/__snapshot/*` → `/{cell}/__snapshot/{path}`; `:key{regex}` → `{key}` (the
 * regex may itself hold `/` and braces, so this scans rather than splits).
 */
export function openApiPathOf(honoPath: string): string {
  let out = "";
  let i = 0;
  while (i < honoPath.length) {
    const param =
      honoPath[i] === ":" && honoPath[i - 1] === "/" ? /^:([A-Za-z0-9_]+)/.exec(honoPath.slice(i)) : null;
    if (!param) {
      out += honoPath[i];
      i += 1;
      continue;
    }
    out += `{${param[1]}}`;
    i += param[0].length;
    if (honoPath[i] === "{") {
      for (let depth = 0; i < honoPath.length; i++) {
        if (honoPath[i] === "\\") i += 1;
        else if (honoPath[i] === "{") depth += 1;
        else if (honoPath[i] === "}" && --depth === 0) break;
      }
      i += 1;
    }
    if (honoPath[i] === "?") i += 1;
  }
  return out.endsWith("/*") ? `${out.slice(0, -1)}{${WILDCARD_PARAM}}` : out;
}

/** A handler as registered, or the one Hono wrapped when mounting a sub-app with its own error handler. */
function unwrap(handler: unknown): object {
  let current = handler as { __COMPOSED_HANDLER?: unknown };
  while (current.__COMPOSED_HANDLER) current = current.__COMPOSED_HANDLER as { __COMPOSED_HANDLER?: unknown };
  return current;
}

export function buildOpenApiDocument<E extends Env>(router: Hono<E>, info: OpenApiInfo): OpenApiDocument {
  const schemas: Record<string, JsonObject> = {
    PersoniumError: jsonSchemaOf(PersoniumErrorSchema, "output"),
  };

  function schemaRef(schema: z.ZodType, io: "input" | "output"): JsonObject {
    const name = nameOf(schema);
    if (!name) return jsonSchemaOf(schema, io);
    schemas[name] ??= jsonSchemaOf(schema, io);
    return { $ref: `#/components/schemas/${name}` };
  }

  function responseObject(doc: ResponseDoc | string): JsonObject {
    const response = typeof doc === "string" ? { description: doc } : doc;
    const content: JsonObject = { ...(response.content ?? {}) };
    for (const [type, schema] of Object.entries(content)) content[type] = { schema };
    if (response.json) content["application/json"] = { schema: schemaRef(response.json, "output") };
    return {
      description: response.description,
      ...(response.headers
        ? {
            headers: Object.fromEntries(
              Object.entries(response.headers).map(([name, description]) => [
                name,
                { description, schema: { type: "string" } },
              ]),
            ),
          }
        : {}),
      ...(Object.keys(content).length > 0 ? { content } : {}),
    };
  }

  function operationObject(doc: OperationDoc, resource: ResourceDoc | undefined, path: string): JsonObject {
    const access = resource?.access ?? "none";
    const responses: Record<string, JsonObject> = {};
    for (const [status, response] of Object.entries(doc.responses))
      responses[status] = responseObject(response);
    const errors = new Set<ErrorCode>([
      ...ACCESS_ERRORS[access],
      ...(doc.body ? bodyErrorCodes(doc.body) : []),
      ...(doc.errors ?? []),
    ]);
    for (const [status, codes] of groupByStatus(errors)) {
      responses[status] = {
        description: codes.map((code) => `- \`${code}\` ${ERRORS[code]}`).join("\n"),
        content: { "application/json": { schema: { $ref: "#/components/schemas/PersoniumError" } } },
      };
    }
    const parameters = [
      ...[...path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => ({
        name,
        in: "path",
        required: true,
        schema: { type: "string" },
        ...(resource?.params?.[name ?? ""] ? { description: resource.params[name ?? ""] } : {}),
      })),
      ...Object.entries(doc.query ?? {}).map(([name, description]) => ({
        name,
        in: "query",
        required: false,
        schema: { type: "string" },
        description,
      })),
      ...Object.entries(doc.headers ?? {}).map(([name, description]) => ({
        name,
        in: "header",
        required: false,
        schema: { type: "string" },
        description,
      })),
    ];
    const requestBody = doc.body
      ? {
          required: doc.body.whenAbsent === "required",
          ...(doc.body.description ? { description: doc.body.description } : {}),
          content: { "application/json": { schema: schemaRef(doc.body.schema, "input") } },
        }
      : doc.rawBody
        ? {
            required: doc.rawBody.required ?? false,
            description: doc.rawBody.description,
            content: { [doc.rawBody.mediaType]: { schema: {} } },
          }
        : undefined;
    return {
      summary: doc.summary,
      ...(doc.description ? { description: doc.description } : {}),
      ...(resource ? { tags: [resource.tag] } : {}),
      security: SECURITY[access],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses,
    };
  }

  const paths: Record<string, Record<string, unknown>> = {};
  const usedTags = new Set<string>();
  for (const route of router.routes) {
    const description = descriptionOf(unwrap(route.handler));
    if (!description) continue;
    if (description.doc) usedTags.add(description.doc.tag);
    const path = description.doc?.path ?? openApiPathOf(route.path);
    paths[path] ??= {};
    const item = paths[path];
    for (const [method, doc] of Object.entries(description.operations)) {
      const operation = operationObject(doc ?? { summary: "", responses: {} }, description.doc, path);
      const field = method.toLowerCase();
      if (PATH_ITEM_METHODS.has(field)) {
        item[field] = operation;
      } else {
        item[ADDITIONAL_OPERATIONS] ??= {};
        (item[ADDITIONAL_OPERATIONS] as JsonObject)[method.toUpperCase()] = operation;
      }
    }
  }

  return {
    openapi: "3.1.0",
    info: {
      title: info.title,
      version: info.version,
      ...(info.description ? { description: info.description } : {}),
    },
    tags: (info.tags ?? []).filter((tag) => usedTags.has(tag.name)).map((tag) => ({ ...tag })),
    paths,
    components: { schemas, securitySchemes: SECURITY_SCHEMES },
  };
}

function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): JsonObject {
  // `$schema` is implied: a 3.1 document's schemas are JSON Schema 2020-12 already.
  const { $schema: _implied, ...json } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonObject;
  return json;
}

function groupByStatus(codes: Iterable<ErrorCode>): Map<string, ErrorCode[]> {
  const byStatus = new Map<string, ErrorCode[]>();
  for (const code of [...codes].sort()) {
    const status = code.slice(2, 5);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return byStatus;
}
