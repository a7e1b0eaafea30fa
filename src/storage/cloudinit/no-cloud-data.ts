/**
 * What goes on a NoCloud "cidata" disk, decided without touching the file
 * system: the meta-data document, which source each kind of data comes
 * from, the inline data decoded and within KubeVirt's limit. Pure.
 */
import { cloudInitMaxBytes, decodeBase64 } from "../../api/admission/cloud-init.ts";
import { StorageError, type Volume, type VmiRef } from "../provider.ts";

/** Keys KubeVirt reads from a user-data Secret, in its order. */
export const userDataKeys = ["userdata", "userData"] as const;
/** Keys KubeVirt reads from a network-data Secret, in its order. */
export const networkDataKeys = ["networkdata", "networkData"] as const;

export type DataKind = "user" | "network";

export type DataSource =
  | { readonly from: "inline"; readonly bytes: Uint8Array }
  | { readonly from: "secret"; readonly secret: string; readonly keys: readonly string[] };

export interface NoCloudPlan {
  readonly user?: DataSource;
  readonly network?: DataSource;
}

/**
 * The instance-id: the VMI's uid, else "NAME.NAMESPACE" (KubeVirt's form;
 * cloud-init uses the id as a directory name, so it carries no "/").
 */
export function instanceId(vmi: VmiRef): string {
  return vmi.uid !== undefined && vmi.uid !== "" ? vmi.uid : `${vmi.name}.${vmi.namespace}`;
}

/** The host name the guest gets: spec.hostname, else the VMI's name (at most 63 characters, as KubeVirt cuts it). */
export function localHostname(vmi: VmiRef): string {
  const name = vmi.hostname !== undefined && vmi.hostname !== "" ? vmi.hostname : vmi.name;
  return name.slice(0, 63);
}

/** meta-data as KubeVirt writes it: a JSON document (which is YAML too). */
export function metaData(vmi: VmiRef): string {
  return `${JSON.stringify({ "instance-id": instanceId(vmi), "local-hostname": localHostname(vmi) })}\n`;
}

const encoder = new TextEncoder();

function inline(volume: string, kind: DataKind, field: string, clear: string | undefined, encoded: string | undefined): DataSource | undefined {
  let bytes: Uint8Array | undefined;
  if (clear !== undefined) bytes = encoder.encode(clear);
  if (encoded !== undefined) {
    const decoded = decodeBase64(encoded);
    if (decoded === null) throw new StorageError(volume, "invalid", `cloudInitNoCloud.${field}Base64 is not valid base64`);
    bytes = decoded;
  }
  if (bytes === undefined) return undefined;
  if (bytes.length > cloudInitMaxBytes) {
    throw new StorageError(volume, "invalid", `cloudInitNoCloud ${kind} data is ${bytes.length} bytes${encoded !== undefined ? " after base64 decoding" : ""}; at most ${cloudInitMaxBytes} are allowed (a Secret can hold more)`);
  }
  return { from: "inline", bytes };
}

function pick(volume: string, kind: DataKind, fields: readonly string[], values: readonly unknown[]): void {
  const given = fields.filter((_, i) => values[i] !== undefined);
  if (given.length > 1) throw new StorageError(volume, "invalid", `cloudInitNoCloud sets ${given.join(" and ")}; set one ${kind} data source`);
}

/** Which sources the volume uses, with inline data decoded and checked. */
export function planNoCloud(volume: Volume): NoCloudPlan {
  const ci = volume.cloudInitNoCloud;
  if (ci === undefined) throw new StorageError(volume.name, "invalid", "it has no cloudInitNoCloud source");
  pick(volume.name, "user", ["userData", "userDataBase64", "secretRef"], [ci.userData, ci.userDataBase64, ci.secretRef]);
  pick(volume.name, "network", ["networkData", "networkDataBase64", "networkDataSecretRef"], [ci.networkData, ci.networkDataBase64, ci.networkDataSecretRef]);
  const secret = (ref: { name: string } | undefined, field: string, keys: readonly string[]): DataSource | undefined => {
    if (ref === undefined) return undefined;
    if (ref.name === "") throw new StorageError(volume.name, "invalid", `cloudInitNoCloud.${field}.name is empty`);
    return { from: "secret", secret: ref.name, keys };
  };
  const user = inline(volume.name, "user", "userData", ci.userData, ci.userDataBase64) ?? secret(ci.secretRef, "secretRef", userDataKeys);
  const network = inline(volume.name, "network", "networkData", ci.networkData, ci.networkDataBase64) ?? secret(ci.networkDataSecretRef, "networkDataSecretRef", networkDataKeys);
  if (user === undefined && network === undefined) {
    throw new StorageError(volume.name, "invalid", "cloudInitNoCloud has neither user data nor network data");
  }
  return { ...(user !== undefined ? { user } : {}), ...(network !== undefined ? { network } : {}) };
}
