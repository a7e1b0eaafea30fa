/**
 * OpenAPI v3 (Kubernetes structural schema) from a valibot schema, so the
 * CRDs say exactly what validation accepts: types, required fields, enums,
 * patterns, bounds and lengths come from the schema's own actions, and each
 * field's description from its `v.description`. Custom checks (`v.check`)
 * cannot be said in OpenAPI and stay in admission; any other validation the
 * generator does not know is an error, so no rule is silently left out.
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
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  nullable?: boolean;
  anyOf?: OpenApi[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

type PipeItem = {
  kind: string;
  type: string;
  requirement?: unknown;
  metadata?: Record<string, unknown>;
  description?: string;
  pipe?: PipeItem[];
};

type AnySchema = v.GenericSchema & {
  type: string;
  wrapped?: AnySchema;
  entries?: Record<string, AnySchema>;
  item?: AnySchema;
  value?: AnySchema;
  options?: unknown[];
  literal?: unknown;
  pipe?: PipeItem[];
};

const optionalTypes = new Set(["optional", "exact_optional", "nullish"]);

/** Validations OpenAPI cannot state: admission checks them. */
const admissionOnly = new Set(["check"]);

function regexSource(r: unknown): string {
  const re = r as RegExp;
  if (re.flags !== "") throw new Error(`Cannot express the pattern /${re.source}/${re.flags} in OpenAPI: flags are not supported`);
  return re.source;
}

function fromPipe(pipe: PipeItem[] | undefined, out: OpenApi): OpenApi {
  for (const a of pipe ?? []) {
    if (a.kind === "schema") {
      // v.pipe(v.pipe(x, …), …): the inner pipe's actions come first.
      fromPipe(a.pipe, out);
      continue;
    }
    const list = out.type === "array";
    if (a.type === "integer") out.type = "integer";
    else if (a.type === "min_value") out.minimum = a.requirement as number;
    else if (a.type === "max_value") out.maximum = a.requirement as number;
    else if (a.type === "min_length") list ? (out.minItems = a.requirement as number) : (out.minLength = a.requirement as number);
    else if (a.type === "max_length") list ? (out.maxItems = a.requirement as number) : (out.maxLength = a.requirement as number);
    else if (a.type === "regex") out.pattern = regexSource(a.requirement);
    else if (a.type === "description") out.description = a.description as string;
    else if (a.type === "metadata") {
      if (a.metadata?.intOrString === true) {
        delete out.anyOf;
        delete out.type;
        out["x-kubernetes-int-or-string"] = true;
      }
      if (typeof a.metadata?.pattern === "string") out.pattern = a.metadata.pattern;
    } else if (a.kind === "validation" && !admissionOnly.has(a.type)) {
      throw new Error(`Cannot express the validation "${a.type}" in OpenAPI: teach src/api/crd/openapi.ts or use v.check`);
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
      return fromPipe(s.pipe, toOpenApi(s.wrapped!));
    case "nullable":
      return fromPipe(s.pipe, { ...toOpenApi(s.wrapped!), nullable: true });
    case "string":
      return fromPipe(s.pipe, { type: "string" });
    case "number":
      return fromPipe(s.pipe, { type: "number" });
    case "boolean":
      return fromPipe(s.pipe, { type: "boolean" });
    case "picklist":
      return fromPipe(s.pipe, { type: "string", enum: s.options as string[] });
    case "literal":
      return fromPipe(s.pipe, { type: typeof s.literal === "number" ? "number" : "string", enum: [s.literal as string] });
    case "array":
      return fromPipe(s.pipe, { type: "array", items: toOpenApi(s.item!) });
    case "record":
      return fromPipe(s.pipe, { type: "object", additionalProperties: toOpenApi(s.value!) });
    case "union":
      return fromPipe(s.pipe, { anyOf: (s.options as v.GenericSchema[]).map(toOpenApi) });
    case "object":
    case "strict_object":
    case "loose_object": {
      const entries = Object.entries(s.entries ?? {});
      const out: OpenApi = { type: "object" };
      if (entries.length > 0) out.properties = Object.fromEntries(entries.map(([k, sub]) => [k, toOpenApi(sub)]));
      const required = entries.filter(([, sub]) => !optionalTypes.has(sub.type)).map(([k]) => k);
      if (required.length > 0) out.required = required;
      if (s.type === "loose_object") out["x-kubernetes-preserve-unknown-fields"] = true;
      return fromPipe(s.pipe, out);
    }
    default:
      throw new Error(`Cannot express schema type "${s.type}" in OpenAPI`);
  }
}

/** The paths of the fields (properties at any depth, through lists and maps) that carry no description. */
export function undescribedFields(schema: OpenApi, at = ""): string[] {
  const out: string[] = [];
  for (const [k, sub] of Object.entries(schema.properties ?? {})) {
    const path = at === "" ? k : `${at}.${k}`;
    if (sub.description === undefined || sub.description.trim() === "") out.push(path);
    out.push(...undescribedFields(sub, path));
  }
  if (schema.items !== undefined) out.push(...undescribedFields(schema.items, `${at}[]`));
  if (schema.additionalProperties !== undefined) out.push(...undescribedFields(schema.additionalProperties, `${at}{}`));
  for (const alt of schema.anyOf ?? []) out.push(...undescribedFields(alt, at));
  return out;
}

/** Refuses a schema with an undescribed field (but the `exempt` paths): `kubectl explain` must answer for every one. */
export function requireDescriptions(schema: OpenApi, what: string, exempt: string[] = []): OpenApi {
  const missing = undescribedFields(schema).filter((p) => !exempt.includes(p));
  if (missing.length > 0) {
    throw new Error(`Cannot generate the schema of ${what}: ${missing.length} field(s) have no description (add v.description in src/api): ${missing.join(", ")}`);
  }
  return schema;
}
