/** kubevirt.io/v1 Volume: where a disk's bytes come from. */
import * as v from "valibot";
import { doc, localObjectReference, nonEmpty, quantity } from "./primitives.ts";

export const pullPolicy = v.picklist(["Always", "IfNotPresent", "Never"]);

export const containerDisk = v.strictObject({
  image: doc(nonEmpty(), "Container image holding the disk image (a qcow2 or raw file under /disk/), such as quay.io/kubevirt/cirros-container-disk-demo."),
  imagePullSecret: v.optional(doc(v.string(), "Name of a Secret with the credentials to pull the image.")),
  imagePullPolicy: v.optional(doc(pullPolicy, "When to pull the image: Always, IfNotPresent or Never (Never needs the image by digest in the node's cache). Default: IfNotPresent.")),
  /** The disk's path inside the image; default: the single file under /disk/. */
  path: v.optional(doc(v.string(), "Absolute path of the disk image inside the container image. Default: the single file under /disk/.")),
});

export const claim = v.strictObject({
  claimName: doc(nonEmpty(), "Name of the PersistentVolumeClaim, in the namespace of the VirtualMachineInstance."),
  readOnly: v.optional(doc(v.boolean(), "Use the claim read-only. Default: false.")),
});

const cloudInitLimit = "At most 2048 bytes.";

export const cloudInitNoCloud = v.strictObject({
  userData: v.optional(doc(v.string(), `cloud-init user data as plain text (such as a #cloud-config document). ${cloudInitLimit}`)),
  userDataBase64: v.optional(doc(v.string(), `cloud-init user data in base64. ${cloudInitLimit}`)),
  /** A Secret holding `userdata` (or `userData`); KubeVirt's UserDataSecretRef. */
  secretRef: v.optional(doc(localObjectReference, "A Secret whose key userdata (or userData) holds the cloud-init user data.")),
  networkData: v.optional(doc(v.string(), `cloud-init network configuration as plain text. ${cloudInitLimit}`)),
  networkDataBase64: v.optional(doc(v.string(), `cloud-init network configuration in base64. ${cloudInitLimit}`)),
  /** A Secret holding `networkdata` (or `networkData`). */
  networkDataSecretRef: v.optional(doc(localObjectReference, "A Secret whose key networkdata (or networkData) holds the cloud-init network configuration.")),
});

const claimText = "A PersistentVolumeClaim whose volume holds the disk: a block device, or a file disk.img on a filesystem volume.";

export const ephemeral = v.strictObject({
  persistentVolumeClaim: doc(claim, "The claim used as the read-only base of the overlay."),
});

export const emptyDisk = v.strictObject({
  capacity: doc(quantity, "Size of the disk, as a quantity in bytes (such as 2Gi)."),
});

export const dataVolume = v.strictObject({
  name: doc(nonEmpty(), "Name of the DataVolume: one of the VM's dataVolumeTemplates, or a DataVolume already in the namespace. The disk is its claim's (same name)."),
  hotpluggable: v.optional(doc(v.boolean(), "Attach the volume to a running VM. bunvirt does not hotplug volumes: must be false or left out.")),
});

export const hostDiskType = v.picklist(["Disk", "DiskOrCreate"]);

/** KubeVirt's HostDisk: a raw image file on the node, allowed only below directories the operator names. */
export const hostDisk = v.strictObject({
  path: doc(nonEmpty(), "Absolute path of the raw disk image on the node, such as /var/lib/bunvirt-host-disks/vm1.img. It must lie below a directory the operator allows (setting host-disk-dirs of ConfigMap bunvirt-config, or `bunvirt run --host-disk-dir DIR`); none is allowed by default. No \".\" or \"..\" segments, and no symlink anywhere below the allowed directory."),
  type: doc(hostDiskType, "Disk: the file must exist; it is used as it is, never truncated, re-owned or changed in mode. DiskOrCreate: when the file is missing, a sparse raw file of capacity is created (owned by QEMU's user); an existing file is used as it is."),
  capacity: v.optional(doc(quantity, "Size of the file DiskOrCreate creates, as a quantity in bytes (such as 10Gi), rounded up to whole 512-byte sectors. Required with DiskOrCreate, refused with Disk. More than the directory's free space is refused (up to 10% less is tolerated, and the file is then made that much smaller, as KubeVirt does).")),
  shared: v.optional(doc(v.boolean(), "Whether the path is on storage shared between nodes (KubeVirt uses it for live migration; bunvirt has no migration and only records it). Default: false.")),
});

/** The sources a v1 volume may have; exactly one is set. */
export const volumeSources = {
  containerDisk: v.optional(doc(containerDisk, "A disk image shipped in a container image, pulled to the node; the VM writes to a throwaway overlay, so changes are lost when it stops.")),
  persistentVolumeClaim: v.optional(doc(claim, claimText)),
  ephemeral: v.optional(doc(ephemeral, "A claim used read-only under a throwaway overlay: the VM's writes are lost when it stops.")),
  emptyDisk: v.optional(doc(emptyDisk, "A new blank disk, created when the VM starts and removed when it stops.")),
  cloudInitNoCloud: v.optional(doc(cloudInitNoCloud, "A small disk labelled cidata in cloud-init's NoCloud format, carrying the user data and network configuration.")),
  dataVolume: v.optional(doc(dataVolume, "The claim of a DataVolume, once its import has finished: a VM's dataVolumeTemplate, or a DataVolume already in the namespace.")),
  hostDisk: v.optional(doc(hostDisk, "A raw disk image file on the node (KubeVirt's HostDisk, feature-gated there): refused unless the operator allows its directory. The file outlives the VM: bunvirt never removes it.")),
};

export const volumeSourceNames = Object.keys(volumeSources) as (keyof typeof volumeSources)[];

export const volume = v.strictObject({
  name: doc(v.string(), "Name of the volume; the disk with the same name shows it to the guest. Unique among the volumes."),
  ...volumeSources,
});
