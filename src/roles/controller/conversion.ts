/**
 * The CRD conversion webhook's work, pure: each object to the desired
 * version with src/api/convert (v1alpha1 <-> v1, lossless). Objects already
 * at that version pass unchanged. Stored objects are converted as they are,
 * not validated first: a conversion that refused an object would make it
 * unreadable. One object that cannot be converted fails the whole review,
 * naming it.
 */
import { convert, type TargetVersion } from "../../api/convert/index.ts";
import { group, kindKey } from "../../api/kinds.ts";
import type { Valid } from "../../api/validate.ts";
import type { ConversionResponse, ConversionReview } from "./review-schemas.ts";

const targets: Record<string, TargetVersion> = { [`${group}/v1`]: "v1", [`${group}/v1alpha1`]: "v1alpha1" };

export function convertRequest(req: ConversionReview["request"]): ConversionResponse {
  const to = targets[req.desiredAPIVersion];
  const fail = (message: string): ConversionResponse => ({ uid: req.uid, convertedObjects: [], result: { status: "Failure", message } });
  if (to === undefined) return fail(`Cannot convert to "${req.desiredAPIVersion}": bunvirt serves ${Object.keys(targets).join(" and ")}`);
  const out: unknown[] = [];
  for (const [i, obj] of req.objects.entries()) {
    const key = kindKey(obj);
    const name = (obj.metadata as { name?: unknown } | undefined)?.name;
    const what = `request.objects[${i}] ("${String(obj.kind)}" "${String(name)}")`;
    if (key === null) return fail(`Cannot convert ${what}: apiVersion "${String(obj.apiVersion)}" kind "${String(obj.kind)}" is not served by bunvirt`);
    if (obj.apiVersion === req.desiredAPIVersion) {
      out.push(obj);
      continue;
    }
    try {
      out.push(convert({ key, object: obj } as Valid, to));
    } catch (e) {
      return fail(`Cannot convert ${what} to "${req.desiredAPIVersion}": ${(e as Error).message}`);
    }
  }
  return { uid: req.uid, convertedObjects: out, result: { status: "Success" } };
}
