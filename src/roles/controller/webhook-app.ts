/**
 * The controller's webhook routes (Hono), JSON in and out:
 *   POST /admission/validate   AdmissionReview -> allowed, or denied with field paths and rules
 *                              (a VM naming an instancetype or preference: read from the API server first)
 *   POST /admission/mutate     AdmissionReview -> KubeVirt's defaults as a base64 JSON Patch
 *   POST /conversion           ConversionReview -> objects at the desired version
 * A body that is not JSON or not a review gets 400 naming the field; a body
 * over the limit gets 413. Mount it on the TLS listener beside the health app.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as v from "valibot";
import { issuesToProblems } from "../../api/problem.ts";
import { mutateRequest, namesInstancetypes, nothingFetched, validateRequest, type MutateOptions } from "./admission.ts";
import type { Fetched, VmNames } from "./instancetype/fetch-found.ts";
import type { AdmissionRequest, AdmissionResponse } from "./review-schemas.ts";
import { convertRequest } from "./conversion.ts";
import { admissionReview, conversionReview } from "./review-schemas.ts";

/** An AdmissionReview carries one object (etcd holds at most 1.5 MiB) and, on update, its old version. */
export const admissionMaxBytes = 4 * 1024 * 1024;
/** A ConversionReview carries a whole list (kubectl get vm over every VM at once). */
export const conversionMaxBytes = 64 * 1024 * 1024;

export interface WebhookOptions {
  newUuid?: () => string;
  /** Reads what the cluster has of the instancetype and preference a VM names (fetch-found.ts). Default: nothing found. */
  fetchFound?: (vm: VmNames) => Promise<Fetched>;
  /** Node directories hostDisk volumes may use (`--host-disk-dirs`); none by default. */
  hostDiskDirs?: readonly string[];
}

const tooLarge = (what: string, max: number) => (c: Context) =>
  c.json({ error: `Cannot read ${what}: the body is larger than ${max} bytes` }, 413);

async function readReview<S extends v.GenericSchema>(c: Context, schema: S, what: string): Promise<{ ok: true; review: v.InferOutput<S> } | { ok: false; res: Response }> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return { ok: false, res: c.json({ error: `Cannot read ${what}: the body is not JSON` }, 400) };
  }
  const parsed = v.safeParse(schema, body);
  if (!parsed.success) {
    const problems = issuesToProblems(parsed.issues).map((p) => `${p.path === "" ? "(body)" : p.path}: ${p.rule}`);
    return { ok: false, res: c.json({ error: `Cannot read ${what}: ${problems.join("; ")}` }, 400) };
  }
  return { ok: true, review: parsed.output };
}

export function webhookApp(opts: WebhookOptions = {}): Hono {
  const mutate: MutateOptions = { newUuid: opts.newUuid ?? (() => crypto.randomUUID()) };
  const app = new Hono();
  const admissionLimit = bodyLimit({ maxSize: admissionMaxBytes, onError: tooLarge("AdmissionReview", admissionMaxBytes) });
  const fetchFound = opts.fetchFound ?? (() => Promise.resolve(nothingFetched));
  const admit = (decide: (req: AdmissionRequest, fetched: Fetched) => AdmissionResponse) => async (c: Context) => {
    const r = await readReview(c, admissionReview, "AdmissionReview");
    if (!r.ok) return r.res;
    const req = r.review.request;
    const fetched = namesInstancetypes(req.object) ? await fetchFound(req.object) : nothingFetched;
    return c.json({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: decide(req, fetched) });
  };
  const policy = { hostDiskDirs: opts.hostDiskDirs ?? [] };
  app.post("/admission/validate", admissionLimit, admit((req, fetched) => validateRequest(req, fetched, policy)));
  app.post("/admission/mutate", admissionLimit, admit((req, fetched) => mutateRequest(req, mutate, fetched)));
  app.post("/conversion", bodyLimit({ maxSize: conversionMaxBytes, onError: tooLarge("ConversionReview", conversionMaxBytes) }), async (c) => {
    const r = await readReview(c, conversionReview, "ConversionReview");
    if (!r.ok) return r.res;
    return c.json({ apiVersion: "apiextensions.k8s.io/v1", kind: "ConversionReview", response: convertRequest(r.review.request) });
  });
  return app;
}
