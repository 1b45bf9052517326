import {
  coldstartQuerySchema,
  coldstartRequestSchema,
  coldstartResponseSchema,
  erasureRequestSchema,
  erasureResponseSchema,
  errorResponseSchema,
  eventsRequestSchema,
  eventsResponseSchema,
  healthResponseSchema,
  predictRequestSchema,
  predictResponseSchema,
  readyResponseSchema,
} from "@gplay/common";
import { z } from "zod";

type Method = "get" | "post";

/** A response; one without a schema has no body (Node's own 431). */
interface Response {
  description: string;
  schema?: z.ZodType;
}

interface Operation {
  method: Method;
  path: string;
  summary: string;
  open: boolean;
  body?: z.ZodType;
  query?: z.ZodObject;
  responses: Record<number, Response>;
}

const openApiSchema = z
  .object({ openapi: z.string(), info: z.object({}).loose(), paths: z.object({}).loose() })
  .loose();

const refused = {
  400: {
    description: "The request is invalid; `error.issues` lists each problem by field path.",
    schema: errorResponseSchema,
  },
  401: { description: "Missing or unknown x-api-key.", schema: errorResponseSchema },
  413: { description: "Body larger than the limit.", schema: errorResponseSchema },
  415: { description: "Body is not JSON.", schema: errorResponseSchema },
  429: {
    description:
      "Rate limit exceeded (per API key, or failed authentications per client IP); see Retry-After.",
    schema: errorResponseSchema,
  },
  503: { description: "Timed out or a backing service is unavailable.", schema: errorResponseSchema },
};

/** What every operation may also answer, before any route runs. */
const always: Record<number, Response> = {
  405: { description: "Method not served on this path; see Allow.", schema: errorResponseSchema },
  431: { description: "Request line or headers over 16 KiB (answered by Node, without a body)." },
};

/** Every route of the API. The OpenAPI document is generated from this table; tests compare it with the app. */
export const OPERATIONS: readonly Operation[] = [
  {
    method: "post",
    path: "/predict",
    summary:
      "Ranked articles for a reader; cold start (with `fallback` saying why) when no model or no such reader.",
    open: false,
    body: predictRequestSchema,
    responses: { 200: { description: "Recommendations.", schema: predictResponseSchema }, ...refused },
  },
  {
    method: "post",
    path: "/coldstart",
    summary: "Fresh popular articles for a new or anonymous reader, shaped by this visit's clicks.",
    open: false,
    body: coldstartRequestSchema,
    responses: { 200: { description: "Recommendations.", schema: coldstartResponseSchema }, ...refused },
  },
  {
    method: "get",
    path: "/coldstart",
    summary: "As POST /coldstart, from the query string (`recentlyClicked=a,b`).",
    open: false,
    query: coldstartQuerySchema,
    responses: { 200: { description: "Recommendations.", schema: coldstartResponseSchema }, ...refused },
  },
  {
    method: "post",
    path: "/events",
    summary:
      "Clicks and impressions: clicks update the reader's read set at once and are filed for ingestion.",
    open: false,
    body: eventsRequestSchema,
    responses: { 200: { description: "Events accepted.", schema: eventsResponseSchema }, ...refused },
  },
  {
    method: "post",
    path: "/admin/erasures",
    summary:
      "Erases readers on request (LGPD): enters them in the erasure ledger and removes them from the feature store; the engine's erase task rewrites the lake (admin scope).",
    open: false,
    body: erasureRequestSchema,
    responses: {
      202: { description: "Entered in the ledger; unknown ids listed.", schema: erasureResponseSchema },
      ...refused,
      403: { description: "The API key lacks the admin scope.", schema: errorResponseSchema },
    },
  },
  {
    method: "get",
    path: "/healthz",
    summary: "Liveness: the process answers.",
    open: true,
    responses: { 200: { description: "Alive.", schema: healthResponseSchema } },
  },
  {
    method: "get",
    path: "/readyz",
    summary: "Readiness: model loaded, feature store reachable, not draining; says why not.",
    open: true,
    responses: {
      200: { description: "Ready.", schema: readyResponseSchema },
      503: { description: "Not ready; `checks` say why.", schema: readyResponseSchema },
    },
  },
  {
    method: "get",
    path: "/openapi.json",
    summary: "This document.",
    open: true,
    responses: { 200: { description: "OpenAPI 3.1 document.", schema: openApiSchema } },
  },
];

const jsonSchema = (schema: z.ZodType, io: "input" | "output") => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
  });
  return rest;
};

/** The OpenAPI 3.1 document (JSON Schema 2020-12 dialect), generated from common's zod schemas. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const parameters =
      op.query === undefined
        ? undefined
        : Object.entries(op.query.shape).map(([name, schema]) => ({
            name,
            in: "query",
            required: !(schema as z.ZodType).safeParse(undefined).success,
            schema: jsonSchema(schema as z.ZodType, "input"),
          }));
    paths[op.path] ??= {};
    (paths[op.path] as Record<string, unknown>)[op.method] = {
      summary: op.summary,
      operationId: `${op.method}${op.path.replaceAll(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
      ...(op.open ? { security: [] } : {}),
      ...(parameters === undefined ? {} : { parameters }),
      ...(op.body === undefined
        ? {}
        : {
            requestBody: {
              required: true,
              content: { "application/json": { schema: jsonSchema(op.body, "input") } },
            },
          }),
      responses: Object.fromEntries(
        Object.entries({ ...op.responses, ...always }).map(([status, r]: [string, Response]) => [
          status,
          {
            description: r.description,
            ...(r.schema === undefined
              ? {}
              : { content: { "application/json": { schema: jsonSchema(r.schema, "output") } } }),
          },
        ]),
      ),
    };
  }
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "GPlayRecommend API",
      version,
      description: "News recommendations: ranked by the champion model, cold start when there is none.",
    },
    components: { securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "x-api-key" } } },
    security: [{ apiKey: [] }],
    paths,
  };
}
