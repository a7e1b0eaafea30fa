/** Building blocks shared by the kubevirt.io schemas. */
import * as v from "valibot";
import { isQuantity, quantityPattern } from "../quantity.ts";

/**
 * A field's description: what `kubectl explain` shows (the CRD generator
 * refuses a field without one). Say what it means, its default and its unit.
 */
export const doc = <T extends v.GenericSchema>(schema: T, text: string) =>
  v.pipe(schema, v.description<v.InferOutput<T>, string>(text));

/** A Kubernetes quantity: a number or a string such as "64M" or "1Gi". */
export const quantity = v.pipe(
  v.union([v.string(), v.number()], "must be a quantity (a number or a string such as \"64M\" or \"1Gi\")"),
  v.check<string | number, string>(isQuantity, "must be a quantity such as \"64M\", \"1Gi\" or \"500m\""),
  v.metadata({ intOrString: true, pattern: quantityPattern.source }),
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

/** A string that must not be empty. */
export const nonEmpty = () => v.pipe(v.string(), v.minLength(1, "must not be empty"));

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

export const localObjectReference = v.strictObject({
  name: doc(v.string(), "Name of the Secret, in the namespace of the VirtualMachineInstance."),
});

export const condition = v.looseObject({
  type: doc(v.string(), "Kind of condition, such as Ready, Paused or Failure."),
  status: doc(v.picklist(["True", "False", "Unknown"]), "Whether the condition holds: True, False or Unknown."),
  reason: v.optional(doc(v.string(), "One CamelCase word saying why the condition last changed.")),
  message: v.optional(doc(v.string(), "A sentence for people about the condition's last change.")),
  lastProbeTime: v.optional(doc(v.nullable(v.string()), "When the condition was last checked (RFC 3339 time).")),
  lastTransitionTime: v.optional(doc(v.nullable(v.string()), "When the status last changed from one value to another (RFC 3339 time).")),
});
