import { expect, test } from "bun:test";
import type { Vm } from "../model.ts";
import { importerPod, importerPodName } from "./importer-pod.ts";

const vm: Vm = { apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", metadata: { name: "vm1", namespace: "ns", uid: "vm-uid" }, spec: { template: { spec: { domain: { devices: {} } } } } };
const pvc = { metadata: { name: "root", uid: "pvc-uid" } };

test("bunvirt import in the controller's image, owned by the claim, restartPolicy OnFailure, no privileges", () => {
  const t = { metadata: { name: "root" }, spec: { source: { http: { url: "http://h/d.img", secretRef: "creds" } }, storage: { resources: { requests: { storage: "1Gi" } } } } };
  const p = importerPod(vm, t, pvc, { image: "reg/bunvirt:1", imagePullPolicy: "Never", insecureRegistries: ["r:5000"] });
  expect(p.metadata).toMatchObject({ name: "importer-root", namespace: "ns", labels: { "kubevirt.io": "bunvirt-importer" } });
  expect(p.metadata?.ownerReferences).toEqual([{ apiVersion: "v1", kind: "PersistentVolumeClaim", name: "root", uid: "pvc-uid", controller: true, blockOwnerDeletion: true }]);
  expect(JSON.parse(p.metadata!.annotations!["bunvirt.io/data-volume"]!)).toEqual({ apiVersion: "cdi.kubevirt.io/v1beta1", kind: "DataVolume", metadata: { name: "root", namespace: "ns" }, spec: t.spec });
  const c = p.spec!.containers[0]!;
  expect([c.image, c.imagePullPolicy]).toEqual(["reg/bunvirt:1", "Never"]);
  expect(c.command).toEqual([
    "bunvirt", "import", "--data-volume-json", "/run/bunvirt/import/data-volume.json",
    "--claim", "root=/run/bunvirt/claims/root", "--secret", "creds=/run/bunvirt/secrets/creds",
    "--cache-dir", "/run/bunvirt/import-cache", "--insecure-registry", "r:5000",
  ]);
  expect(p.spec?.restartPolicy).toBe("OnFailure");
  expect(c.terminationMessagePolicy).toBe("FallbackToLogsOnError");
  expect(p.spec?.automountServiceAccountToken).toBe(false);
  expect(c.securityContext).toMatchObject({ privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
  expect(c.securityContext?.capabilities?.add).toBeUndefined();
  expect(p.spec?.volumes).toContainEqual({ name: "pvc-root", persistentVolumeClaim: { claimName: "root" } });
  expect(p.spec?.volumes).toContainEqual({ name: "data-volume", downwardAPI: { items: [{ path: "data-volume.json", fieldRef: { fieldPath: "metadata.annotations['bunvirt.io/data-volume']" } }] } });
});

test("a clone source in the same namespace is mounted read-only; one elsewhere is not (the import names it)", () => {
  const same = importerPod(vm, { metadata: { name: "copy" }, spec: { source: { pvc: { namespace: "ns", name: "golden" } }, pvc: { resources: { requests: { storage: "1Gi" } } } } }, pvc, { image: "i" });
  expect(same.spec?.volumes).toContainEqual({ name: "pvc-golden", persistentVolumeClaim: { claimName: "golden", readOnly: true } });
  expect(same.spec?.containers[0]!.command).toContain("golden=/run/bunvirt/claims/golden");
  const other = importerPod(vm, { metadata: { name: "copy" }, spec: { source: { pvc: { namespace: "elsewhere", name: "golden" } }, pvc: { resources: { requests: { storage: "1Gi" } } } } }, pvc, { image: "i" });
  expect(other.spec?.volumes?.some((v) => v.persistentVolumeClaim?.claimName === "golden")).toBe(false);
});

test("a long claim name gives a hashed pod name of at most 63 characters", () => {
  expect(importerPodName("x".repeat(60))).toMatch(/^importer-[0-9a-f]{20}$/);
});
