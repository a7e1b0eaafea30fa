/** Name, UUID and the VMI's identity in <metadata>. */
import { createHash } from "node:crypto";
import type { Configurator } from "../context.ts";
import { el } from "../xml.ts";

export const metadataNamespace = "https://bunvirt.io/xmlns/domain/v1";

/** libvirt domain name for a VMI, as KubeVirt names it: namespace_name. */
export function domainName(namespace: string, name: string): string {
  return `${namespace}_${name}`;
}

/** A stable name-based UUID (version 5 layout over SHA-1) for VMIs without one. */
export function uuidFromName(namespace: string, name: string): string {
  const h = createHash("sha1").update(`bunvirt.io/vmi/${namespace}/${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const identity: Configurator = ({ vmi, spec }) => {
  const fromSpec = spec.domain.firmware?.uuid;
  const uuid = [fromSpec, vmi.uid].find((u) => u !== undefined && uuidPattern.test(u)) ?? uuidFromName(vmi.namespace, vmi.name);
  return {
    name: [el("name", {}, domainName(vmi.namespace, vmi.name))],
    uuid: [el("uuid", {}, uuid.toLowerCase())],
    metadata: [
      el("metadata", {},
        el("bunvirt:vmi", { "xmlns:bunvirt": metadataNamespace },
          el("bunvirt:namespace", {}, vmi.namespace),
          el("bunvirt:name", {}, vmi.name),
          vmi.uid !== undefined && el("bunvirt:uid", {}, vmi.uid))),
    ],
  };
};
