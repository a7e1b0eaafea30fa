/** kubevirt.io/v1 Volume: where a disk's bytes come from. */
import * as v from "valibot";
import { localObjectReference, quantity } from "./primitives.ts";

export const pullPolicy = v.picklist(["Always", "IfNotPresent", "Never"]);

export const containerDisk = v.strictObject({
  image: v.pipe(v.string(), v.minLength(1, "must not be empty")),
  imagePullSecret: v.optional(v.string()),
  imagePullPolicy: v.optional(pullPolicy),
  /** The disk's path inside the image; default: the single file under /disk/. */
  path: v.optional(v.string()),
});

export const claim = v.strictObject({
  claimName: v.pipe(v.string(), v.minLength(1, "must not be empty")),
  readOnly: v.optional(v.boolean()),
});

export const cloudInitNoCloud = v.strictObject({
  userData: v.optional(v.string()),
  userDataBase64: v.optional(v.string()),
  /** A Secret holding `userdata` (or `userData`); KubeVirt's UserDataSecretRef. */
  secretRef: v.optional(localObjectReference),
  networkData: v.optional(v.string()),
  networkDataBase64: v.optional(v.string()),
  /** A Secret holding `networkdata` (or `networkData`). */
  networkDataSecretRef: v.optional(localObjectReference),
});

/** The sources a v1 volume may have; exactly one is set. */
export const volumeSources = {
  containerDisk: v.optional(containerDisk),
  persistentVolumeClaim: v.optional(claim),
  ephemeral: v.optional(v.strictObject({ persistentVolumeClaim: claim })),
  emptyDisk: v.optional(v.strictObject({ capacity: quantity })),
  cloudInitNoCloud: v.optional(cloudInitNoCloud),
};

export const volumeSourceNames = Object.keys(volumeSources) as (keyof typeof volumeSources)[];

export const volume = v.strictObject({ name: v.string(), ...volumeSources });
