/**
 * OpenAPI v3 (Kubernetes structural schema) from a valibot schema, so the
 * CRDs say exactly what validation accepts.
 */
import type * as v from "valibot";

export interface OpenApi {
  type?: string;
  description?: string;
  properties?: Record<string, OpenApi>;
  required?: string[];
  items?: OpenApi;
  additionalProperties?: OpenApi;
  enum?: (string | number | boolean)[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  nullable?: boolean;
  anyOf?: OpenApi[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

type AnySchema = v.GenericSchema & {
  type: string;
  wrapped?: AnySchema;
  entries?: Record<string, AnySchema>;
  item?: AnySchema;
  value?: AnySchema;
  options?: unknown[];
  literal?: unknown;
  pipe?: { kind: string; type: string; requirement?: unknown; metadata?: Record<string, unknown>; description?: string }[];
};

const optionalTypes = new Set(["optional", "exact_optional", "nullish"]);

function fromPipe(s: AnySchema, out: OpenApi): OpenApi {
  for (const a of s.pipe ?? []) {
    if (a.type === "integer") out.type = "integer";
    else if (a.type === "min_value") out.minimum = a.requirement as number;
    else if (a.type === "max_value") out.maximum = a.requirement as number;
    else if (a.type === "min_length" && out.type === "string") out.minLength = a.requirement as number;
    else if (a.type === "max_length" && out.type === "string") out.maxLength = a.requirement as number;
    else if (a.type === "max_length" && out.type === "array") out.maxItems = a.requirement as number;
    else if (a.type === "regex" && out.type === "string") out.pattern = (a.requirement as RegExp).source;
    else if (a.type === "description") out.description = a.description as string;
    else if (a.type === "metadata" && a.metadata?.intOrString === true) {
      delete out.anyOf;
      delete out.type;
      out["x-kubernetes-int-or-string"] = true;
    }
  }
  return out;
}

export function toOpenApi(schema: v.GenericSchema): OpenApi {
  const s = schema as AnySchema;
  switch (s.type) {
    case "optional":
    case "exact_optional":
    case "nullish":
      return toOpenApi(s.wrapped!);
    case "nullable":
      return { ...toOpenApi(s.wrapped!), nullable: true };
    case "string":
      return fromPipe(s, { type: "string" });
    case "number":
      return fromPipe(s, { type: "number" });
    case "boolean":
      return { type: "boolean" };
    case "picklist":
      return { type: "string", enum: s.options as string[] };
    case "literal":
      return { type: typeof s.literal === "number" ? "number" : "string", enum: [s.literal as string] };
    case "array":
      return fromPipe(s, { type: "array", items: toOpenApi(s.item!) });
    case "record":
      return { type: "object", additionalProperties: toOpenApi(s.value!) };
    case "union":
      return fromPipe(s, { anyOf: (s.options as v.GenericSchema[]).map(toOpenApi) });
    case "object":
    case "strict_object":
    case "loose_object": {
      const entries = Object.entries(s.entries ?? {});
      const out: OpenApi = { type: "object" };
      if (entries.length > 0) out.properties = Object.fromEntries(entries.map(([k, sub]) => [k, toOpenApi(sub)]));
      const required = entries.filter(([, sub]) => !optionalTypes.has(sub.type)).map(([k]) => k);
      if (required.length > 0) out.required = required;
      if (s.type === "loose_object") out["x-kubernetes-preserve-unknown-fields"] = true;
      return fromPipe(s, out);
    }
    default:
      throw new Error(`Cannot express schema type "${s.type}" in OpenAPI`);
  }
}
