/**
 * CDI's DataVolume spec (cdi.kubevirt.io/v1beta1), the part a VM's
 * `spec.dataVolumeTemplates` carries: where the disk comes from (`source`)
 * and the claim it is written into (`storage` or `pvc`). Only the sources
 * bunvirt imports itself are accepted; the others (s3, gcs, upload,
 * imageio, vddk, snapshot, sourceRef) are refused by the schema, naming the
 * field.
 */
import * as v from "valibot";
import { maxListItems } from "../limits.ts";
import { boundedList, doc, nonEmpty, quantity, stringMap } from "./primitives.ts";

export const httpSource = v.strictObject({
  url: doc(nonEmpty(), "URL of the disk image, http:// or https:// (raw or qcow2, as the server sends it; a qcow2 is converted to raw). No credentials in the URL: use secretRef."),
  secretRef: v.optional(doc(v.string(), "Name of a Secret with keys accessKeyId (user name) and secretKey (password) for HTTP basic authentication.")),
  certConfigMap: v.optional(doc(v.string(), "Name of a ConfigMap holding the CA certificate(s) that sign the server's certificate.")),
});

export const registryPullMethods = ["pod", "node"] as const;

export const registrySource = v.strictObject({
  url: doc(nonEmpty(), "The image holding the disk, as docker://REGISTRY/REPOSITORY[:TAG][@DIGEST]; the disk is the single file under /disk/ of the image."),
  pullMethod: v.optional(doc(v.picklist(registryPullMethods), "pod (default): the importer pulls the image; node: the node's cache of images is used. bunvirt pulls through its node disk cache either way.")),
  secretRef: v.optional(doc(v.string(), "Name of a Secret with keys accessKeyId and secretKey: the registry user name and password.")),
  certConfigMap: v.optional(doc(v.string(), "Name of a ConfigMap holding the CA certificate(s) of the registry.")),
});

export const pvcSource = v.strictObject({
  namespace: doc(nonEmpty(), "Namespace of the PersistentVolumeClaim to clone."),
  name: doc(nonEmpty(), "Name of the PersistentVolumeClaim to clone; its disk is copied into the new claim."),
});

export const dataVolumeSource = v.strictObject({
  http: v.optional(doc(httpSource, "Import a disk image over http or https.")),
  registry: v.optional(doc(registrySource, "Import the disk image of a container image in a registry (as a containerDisk carries it).")),
  blank: v.optional(doc(v.strictObject({}), "A new empty raw disk of the requested size.")),
  pvc: v.optional(doc(pvcSource, "A copy of another claim's disk (a clone).")),
});

export const dataVolumeSourceNames = Object.keys(dataVolumeSource.entries) as (keyof typeof dataVolumeSource.entries)[];

export const accessModes = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"] as const;
export const volumeModes = ["Filesystem", "Block"] as const;

const resources = v.strictObject({
  requests: v.optional(doc(v.strictObject({ storage: doc(quantity, "Size of the disk (and of the claim), in bytes, such as 10Gi.") }), "What the claim asks for: storage.")),
  limits: v.optional(doc(v.strictObject({ storage: v.optional(doc(quantity, "Largest size of the claim, in bytes.")) }), "Limits of the claim (storage only).")),
});

const claimFields = {
  accessModes: v.optional(doc(boundedList(v.picklist(accessModes), 4), "How the claim may be mounted: ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod. Default: the storage class's (storage) or required (pvc).")),
  resources: v.optional(doc(resources, "The claim's size: resources.requests.storage.")),
  storageClassName: v.optional(doc(v.string(), "StorageClass of the claim. Default: the cluster's default class.")),
  volumeMode: v.optional(doc(v.picklist(volumeModes), "Filesystem (the disk is the file disk.img on the volume, the default) or Block (the disk is the device).")),
  volumeName: v.optional(doc(v.string(), "A PersistentVolume to bind the claim to.")),
  selector: v.optional(doc(v.looseObject({ matchLabels: v.optional(doc(stringMap, "Labels the PersistentVolume must have.")) }), "A label query over PersistentVolumes to bind to.")),
};

export const storageSpec = v.strictObject(claimFields);
export const pvcSpec = v.strictObject(claimFields);

export const dataVolumeSpec = v.strictObject({
  source: v.optional(doc(dataVolumeSource, "Where the disk comes from: exactly one of http, registry, blank or pvc.")),
  storage: v.optional(doc(storageSpec, "The claim to write the disk into, with the storage profile's defaults for what is left out. Set this or pvc.")),
  pvc: v.optional(doc(pvcSpec, "The claim to write the disk into, exactly as given (a PersistentVolumeClaim spec). Set this or storage.")),
  contentType: v.optional(doc(v.picklist(["kubevirt"]), "kubevirt: the source is a disk image (the only content bunvirt imports).")),
  priorityClassName: v.optional(doc(v.string(), "Priority class of the importer pod.")),
  preallocation: v.optional(doc(v.boolean(), "Allocate the whole disk up front instead of sparse. Accepted; bunvirt's importer writes sparse disks either way for now.")),
});

export const dataVolumeTemplate = v.strictObject({
  apiVersion: v.optional(doc(v.string(), "cdi.kubevirt.io/v1beta1 (may be left out).")),
  kind: v.optional(doc(v.string(), "DataVolume (may be left out).")),
  metadata: doc(
    v.looseObject({
      name: doc(v.string(), "Name of the DataVolume and of its claim: a DNS-1123 subdomain, unique among the templates; a dataVolume volume names it."),
      namespace: v.optional(doc(v.string(), "Must be the VM's namespace when given.")),
      labels: v.optional(doc(stringMap, "Labels of the DataVolume.")),
      annotations: v.optional(doc(stringMap, "Annotations of the DataVolume.")),
    }),
    "The DataVolume's name (and labels, annotations).",
  ),
  spec: doc(dataVolumeSpec, "The DataVolume's spec: its source and its claim."),
});

/** `spec.dataVolumeTemplates` of a VM. */
export const dataVolumeTemplates = boundedList(dataVolumeTemplate, maxListItems);

export type DataVolumeTemplate = v.InferOutput<typeof dataVolumeTemplate>;
export type DataVolumeSpec = v.InferOutput<typeof dataVolumeSpec>;
export type DataVolumeSource = v.InferOutput<typeof dataVolumeSource>;
