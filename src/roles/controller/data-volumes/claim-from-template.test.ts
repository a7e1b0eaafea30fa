import { expect, test } from "bun:test";
import type { Vm } from "../model.ts";
import { claimBytes, claimFromTemplate } from "./claim-from-template.ts";

const vm: Vm = { apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", metadata: { name: "vm1", namespace: "ns", uid: "vm-uid" }, spec: { template: { spec: { domain: { devices: {} } } } } };
const MiB = 2 ** 20;

test("storage: CDI's defaults (ReadWriteOnce, Filesystem) and its 5.5% filesystem overhead; owned by the VM", () => {
  const c = claimFromTemplate(vm, { metadata: { name: "root", labels: { a: "b" } }, spec: { source: { blank: {} }, storage: { resources: { requests: { storage: "1Gi" } }, storageClassName: "local" } } });
  expect(c.metadata).toMatchObject({ name: "root", namespace: "ns", labels: { a: "b", app: "containerized-data-importer" } });
  expect(c.metadata?.ownerReferences).toEqual([{ apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", name: "vm1", uid: "vm-uid", controller: true, blockOwnerDeletion: true }]);
  expect(c.spec).toEqual({ accessModes: ["ReadWriteOnce"], volumeMode: "Filesystem", resources: { requests: { storage: "1084Mi" } }, storageClassName: "local" });
});

test("pvc: exactly as given; Block mode and storage in Block mode take no overhead", () => {
  const given = { accessModes: ["ReadWriteMany" as const], volumeMode: "Block" as const, resources: { requests: { storage: "2Gi" } }, volumeName: "pv1" };
  const c = claimFromTemplate(vm, { metadata: { name: "d" }, spec: { source: { blank: {} }, pvc: given } });
  expect(c.spec).toEqual({ accessModes: ["ReadWriteMany"], volumeMode: "Block", resources: { requests: { storage: "2048Mi" } }, volumeName: "pv1" });
  expect(claimBytes({ metadata: { name: "d" }, spec: { storage: { volumeMode: "Block", resources: { requests: { storage: "2Gi" } } } } })).toBe(2048 * MiB);
  expect(claimBytes({ metadata: { name: "d" }, spec: { pvc: { resources: { requests: { storage: "10M" } } } } })).toBe(10 * MiB);
});
