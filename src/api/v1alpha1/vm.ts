/**
 * kubevirt.io/v1alpha1 VirtualMachine in the form of the seed document: the
 * VM's domain and volumes sit directly under spec, disks name their volume by
 * `volumeName`, and registry disks are `registryDisk`. Anything v1 can say
 * that this form cannot is carried in an annotation by the converter.
 */
import * as v from "valibot";
import { devices as v1Devices, domainWithDevices } from "../v1/domain.ts";
import { diskEntries } from "../v1/disk.ts";
import { volumeSources } from "../v1/volume.ts";
import { vmiSpecTexts } from "../v1/vmi.ts";
import { maxListItems } from "../limits.ts";
import { boundedList, doc, int, nonEmpty, objectMeta, stringMap } from "../v1/primitives.ts";

export const alphaDisk = v.strictObject({
  ...diskEntries,
  name: doc(v.string(), "Name of the disk, unique among the disks; a DNS-1123 label."),
  volumeName: doc(v.string(), "Name of the volume that supplies the disk's bytes."),
});

const v1DeviceEntries = v1Devices.entries;

export const alphaDevices = v.strictObject({
  disks: v.optional(doc(boundedList(alphaDisk, maxListItems), "Disks the guest sees, each naming its volume by volumeName. At most 256.")),
  autoattachSerialConsole: v1DeviceEntries.autoattachSerialConsole,
  autoattachPodInterface: v1DeviceEntries.autoattachPodInterface,
  autoattachMemBalloon: v1DeviceEntries.autoattachMemBalloon,
  rng: v1DeviceEntries.rng,
});

export const registryDisk = v.strictObject({
  image: doc(nonEmpty(), "Container image holding the disk image (the v1 containerDisk's image)."),
  imagePullSecret: v.optional(doc(v.string(), "Name of a Secret with the credentials to pull the image.")),
});

export const alphaVolumeSources = {
  registryDisk: v.optional(doc(registryDisk, "A disk image shipped in a container image: v1alpha1's name for containerDisk. The VM writes to a throwaway overlay.")),
  persistentVolumeClaim: volumeSources.persistentVolumeClaim,
  ephemeral: volumeSources.ephemeral,
  emptyDisk: volumeSources.emptyDisk,
  cloudInitNoCloud: volumeSources.cloudInitNoCloud,
  // Not in KubeVirt's v1alpha1 (v1alpha2 added it): accepted so a v1 VM with one converts both ways.
  hostDisk: volumeSources.hostDisk,
};

export const alphaVolume = v.strictObject({
  name: doc(v.string(), "Name of the volume; disks refer to it by volumeName. Unique among the volumes."),
  ...alphaVolumeSources,
});

export const alphaSpec = v.strictObject({
  domain: doc(domainWithDevices(alphaDevices), vmiSpecTexts.domain),
  volumes: v.optional(doc(boundedList(alphaVolume, maxListItems), "Where the disks' bytes come from; each disk names its volume. At most 256.")),
  terminationGracePeriodSeconds: v.optional(doc(int(0), vmiSpecTexts.terminationGracePeriodSeconds)),
  hostname: v.optional(doc(v.string(), vmiSpecTexts.hostname)),
  nodeSelector: v.optional(doc(stringMap, vmiSpecTexts.nodeSelector)),
});

export const virtualMachineV1alpha1 = v.strictObject({
  apiVersion: v.literal("kubevirt.io/v1alpha1"),
  kind: v.literal("VirtualMachine"),
  metadata: objectMeta,
  spec: doc(alphaSpec, "The VM's hardware and volumes; a v1alpha1 VM runs from the moment it is created."),
  status: v.optional(doc(v.looseObject({}), "What the VM is, as bunvirt observed it. Written by bunvirt.")),
});

export type VirtualMachineV1alpha1 = v.InferOutput<typeof virtualMachineV1alpha1>;
