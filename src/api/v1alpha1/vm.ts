/**
 * kubevirt.io/v1alpha1 VirtualMachine in the form of the seed document: the
 * VM's domain and volumes sit directly under spec, disks name their volume by
 * `volumeName`, and registry disks are `registryDisk`. Anything v1 can say
 * that this form cannot is carried in an annotation by the converter.
 */
import * as v from "valibot";
import { domainWithDevices } from "../v1/domain.ts";
import { diskEntries } from "../v1/disk.ts";
import { claim, cloudInitNoCloud } from "../v1/volume.ts";
import { maxListItems } from "../limits.ts";
import { boundedList, int, objectMeta, quantity, stringMap } from "../v1/primitives.ts";

export const alphaDisk = v.strictObject({ ...diskEntries, volumeName: v.string() });

export const alphaDevices = v.strictObject({
  disks: v.optional(boundedList(alphaDisk, maxListItems)),
  autoattachSerialConsole: v.optional(v.boolean()),
  autoattachPodInterface: v.optional(v.boolean()),
  autoattachMemBalloon: v.optional(v.boolean()),
  rng: v.optional(v.strictObject({})),
});

export const registryDisk = v.strictObject({
  image: v.pipe(v.string(), v.minLength(1, "must not be empty")),
  imagePullSecret: v.optional(v.string()),
});

export const alphaVolumeSources = {
  registryDisk: v.optional(registryDisk),
  persistentVolumeClaim: v.optional(claim),
  ephemeral: v.optional(v.strictObject({ persistentVolumeClaim: claim })),
  emptyDisk: v.optional(v.strictObject({ capacity: quantity })),
  cloudInitNoCloud: v.optional(cloudInitNoCloud),
};

export const alphaVolume = v.strictObject({ name: v.string(), ...alphaVolumeSources });

export const alphaSpec = v.strictObject({
  domain: domainWithDevices(alphaDevices),
  volumes: v.optional(boundedList(alphaVolume, maxListItems)),
  terminationGracePeriodSeconds: v.optional(int(0)),
  hostname: v.optional(v.string()),
  nodeSelector: v.optional(stringMap),
});

export const virtualMachineV1alpha1 = v.strictObject({
  apiVersion: v.literal("kubevirt.io/v1alpha1"),
  kind: v.literal("VirtualMachine"),
  metadata: objectMeta,
  spec: alphaSpec,
  status: v.optional(v.looseObject({})),
});

export type VirtualMachineV1alpha1 = v.InferOutput<typeof virtualMachineV1alpha1>;
