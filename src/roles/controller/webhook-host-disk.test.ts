/** The validating webhook and the controller's host-disk-dirs: a hostDisk below no allowed directory is refused at apply, saying how to allow it. */
import { expect, test } from "bun:test";
import { parseManifests } from "../../api/manifest.ts";
import { webhookApp } from "./webhook-app.ts";

const vmi = parseManifests(await Bun.file(new URL("../../../tests/fixtures/user-guide/vmi-host-disk.yaml", import.meta.url).pathname).text())[0]!.value as Record<string, any>;

async function verdict(dirs?: readonly string[]): Promise<{ allowed: boolean; status?: { message: string; details: { causes: { field: string; message: string }[] } } }> {
  const app = webhookApp(dirs === undefined ? {} : { hostDiskDirs: dirs });
  const request = {
    uid: "u1", kind: { group: "kubevirt.io", version: "v1", kind: "VirtualMachineInstance" }, resource: { group: "kubevirt.io", version: "v1", resource: "virtualmachineinstances" },
    name: "vmi-host-disk", namespace: "default", operation: "CREATE", userInfo: { username: "alice" },
    object: { ...vmi, metadata: { ...vmi.metadata, namespace: "default" } }, oldObject: null, dryRun: false,
  };
  const res = await app.request("/admission/validate", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request }) });
  return ((await res.json()) as { response: never }).response;
}

test("off by default: the user guide's hostDisk VMI is refused at the path, saying how to allow it", async () => {
  const r = await verdict();
  expect(r.allowed).toBe(false);
  expect(r.status!.details.causes).toEqual([{
    reason: "FieldValueInvalid",
    field: "spec.volumes[0].hostDisk.path",
    message: '"/var/data/disk.img" is not below a directory allowed for host disks (hostDisk is off: no directory is allowed); allow its directory with the setting host-disk-dirs of ConfigMap bunvirt-config (a comma-separated list of directories on the nodes; the controller\'s --host-disk-dirs), or --host-disk-dir DIR for `bunvirt run`',
  } as never]);
});

test("allowed when its directory is listed; a sibling directory does not count", async () => {
  expect((await verdict(["/var/data"])).allowed).toBe(true);
  expect((await verdict(["/var/dat", "/var/data2"])).allowed).toBe(false);
});

test("a VM that names an instancetype is held to the same directories", async () => {
  const app = webhookApp({
    hostDiskDirs: ["/var/allowed"],
    fetchFound: () => Promise.resolve({
      found: {
        object: () => ({ apiVersion: "instancetype.kubevirt.io/v1beta1", kind: "VirtualMachineClusterInstancetype", metadata: { name: "u1.small", uid: "it-uid", generation: 1 }, spec: { cpu: { guest: 1 }, memory: { guest: "128Mi" } } }),
        revision: () => undefined,
      },
      warnings: [],
    } as never),
  });
  const vm = {
    apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", metadata: { name: "vm-host-disk", namespace: "default" },
    spec: { runStrategy: "Halted", instancetype: { name: "u1.small" }, template: { spec: { domain: { devices: {} }, volumes: vmi.spec.volumes } } },
  };
  const request = {
    uid: "u2", kind: { group: "kubevirt.io", version: "v1", kind: "VirtualMachine" }, resource: { group: "kubevirt.io", version: "v1", resource: "virtualmachines" },
    name: "vm-host-disk", namespace: "default", operation: "CREATE", userInfo: { username: "alice" }, object: vm, oldObject: null, dryRun: false,
  };
  const res = await app.request("/admission/validate", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request }) });
  const r = ((await res.json()) as { response: { allowed: boolean; status?: { details: { causes: { field: string }[] } } } }).response;
  expect(r.allowed).toBe(false);
  expect(r.status!.details.causes.map((c) => c.field)).toEqual(["spec.template.spec.volumes[0].hostDisk.path"]);
});
