/**
 * The review bodies the API server sends to webhooks, as valibot schemas:
 * admission.k8s.io/v1 AdmissionReview and apiextensions.k8s.io/v1
 * ConversionReview. Only what the handlers read is required; other keys
 * (userInfo, options, …) are kept as the API server sent them.
 */
import * as v from "valibot";

const nonEmpty = v.pipe(v.string(), v.minLength(1, "must not be empty"));
const groupVersionKind = v.looseObject({ group: v.string(), version: v.string(), kind: v.string() });
const groupVersionResource = v.looseObject({ group: v.string(), version: v.string(), resource: v.string() });
const anyObject = v.record(v.string(), v.unknown());

export const admissionReview = v.looseObject({
  apiVersion: v.literal("admission.k8s.io/v1"),
  kind: v.literal("AdmissionReview"),
  request: v.looseObject({
    uid: nonEmpty,
    kind: groupVersionKind,
    resource: groupVersionResource,
    subResource: v.optional(v.string()),
    name: v.optional(v.string()),
    namespace: v.optional(v.string()),
    operation: v.picklist(["CREATE", "UPDATE", "DELETE", "CONNECT"]),
    userInfo: v.optional(v.looseObject({ username: v.optional(v.string()) })),
    object: v.optional(v.nullable(anyObject)),
    oldObject: v.optional(v.nullable(anyObject)),
    dryRun: v.optional(v.boolean()),
  }),
});

export type AdmissionReview = v.InferOutput<typeof admissionReview>;
export type AdmissionRequest = AdmissionReview["request"];

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: {
    code: number;
    reason?: string;
    message: string;
    details?: { causes: { reason: string; field: string; message: string }[] };
  };
  patchType?: "JSONPatch";
  /** base64 of the JSON Patch. */
  patch?: string;
  warnings?: string[];
}

export const conversionReview = v.looseObject({
  apiVersion: v.literal("apiextensions.k8s.io/v1"),
  kind: v.literal("ConversionReview"),
  request: v.looseObject({
    uid: nonEmpty,
    desiredAPIVersion: nonEmpty,
    objects: v.array(anyObject),
  }),
});

export type ConversionReview = v.InferOutput<typeof conversionReview>;

export interface ConversionResponse {
  uid: string;
  convertedObjects: unknown[];
  result: { status: "Success" } | { status: "Failure"; message: string };
}
