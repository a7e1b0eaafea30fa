import { expect, test } from "bun:test";
import { launcherPdb } from "./launcher-pdb.ts";

const pod = { metadata: { name: "virt-launcher-vm1-abcde", namespace: "ns", uid: "pod-uid", labels: { "kubevirt.io/created-by": "vmi-uid" } } };

test("None, LiveMigrateIfPossible and no strategy: no budget, the eviction stops the VM", () => {
  for (const evictionStrategy of [undefined, "None", "LiveMigrateIfPossible"] as const) expect(launcherPdb({ evictionStrategy }, pod)).toBeNull();
});

test("LiveMigrate and External: a budget keeping the launcher pod, owned by it", () => {
  for (const evictionStrategy of ["LiveMigrate", "External"] as const) {
    expect(launcherPdb({ evictionStrategy }, pod)).toEqual({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: {
        name: "virt-launcher-vm1-abcde",
        namespace: "ns",
        labels: { "kubevirt.io/created-by": "vmi-uid" },
        ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "virt-launcher-vm1-abcde", uid: "pod-uid" }],
      },
      spec: { minAvailable: 1, selector: { matchLabels: { "kubevirt.io/created-by": "vmi-uid" } } },
    });
  }
});

test("a pod without its identity is an error, not a budget that selects nothing", () => {
  expect(() => launcherPdb({ evictionStrategy: "External" }, { metadata: { name: "p", namespace: "ns" } })).toThrow("has no namespace, uid or kubevirt.io/created-by label");
});
