/** Building blocks shared by the kubevirt.io schemas. */
import * as v from "valibot";
import { isQuantity } from "../quantity.ts";

/** A Kubernetes quantity: a number or a string such as "64M" or "1Gi". */
export const quantity = v.pipe(
  v.union([v.string(), v.number()], "must be a quantity (a number or a string such as \"64M\" or \"1Gi\")"),
  v.check<string | number, string>(isQuantity, "must be a quantity such as \"64M\", \"1Gi\" or \"500m\""),
  v.metadata({ intOrString: true }),
);

export const int = (min: number, max?: number) =>
  max === undefined
    ? v.pipe(v.number(), v.integer("must be an integer"), v.minValue(min, `must be at least ${min}`))
    : v.pipe(v.number(), v.integer("must be an integer"), v.minValue(min, `must be at least ${min}`), v.maxValue(max, `must be at most ${max}`));

/** A list of at most `max` items (KubeVirt's MaxItems). */
export const boundedList = <T extends v.GenericSchema>(item: T, max: number) =>
  v.pipe(v.array(item), v.maxLength(max, `must have at most ${max} items`));

/** A string matching a pattern; the rule says which characters are allowed. */
export const patterned = (pattern: RegExp, rule: string) => v.pipe(v.string(), v.regex(pattern, rule));

export const stringMap = v.record(v.string(), v.string());

/** An empty object used as a tag, e.g. `masquerade: {}` or `pod: {}`. */
export const marker = () => v.strictObject({});

/**
 * ObjectMeta. The API server owns most of it, so unknown keys are kept; the
 * fields bunvirt reads are typed.
 */
export const objectMeta = v.looseObject({
  name: v.optional(v.string()),
  generateName: v.optional(v.string()),
  namespace: v.optional(v.string()),
  uid: v.optional(v.string()),
  labels: v.optional(stringMap),
  annotations: v.optional(stringMap),
});

export const localObjectReference = v.strictObject({ name: v.string() });

export const condition = v.looseObject({
  type: v.string(),
  status: v.picklist(["True", "False", "Unknown"]),
  reason: v.optional(v.string()),
  message: v.optional(v.string()),
  lastProbeTime: v.optional(v.nullable(v.string())),
  lastTransitionTime: v.optional(v.nullable(v.string())),
});
