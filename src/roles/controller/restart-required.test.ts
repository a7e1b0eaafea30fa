import { expect, test } from "bun:test";
import type { Vm, Vmi } from "./model.ts";
import { restartRequired, templateHash, templateHashAnnotation } from "./restart-required.ts";
import { vmStatus } from "./vm-status.ts";
import { vmiFromVm } from "./vmi-from-vm.ts";

const vm = (memory = "128Mi"): Vm => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name: "v", namespace: "ns", uid: "u", generation: 1 },
  spec: { runStrategy: "Always", template: { metadata: { labels: { a: "b" } }, spec: { domain: { devices: {}, memory: { guest: memory } } } } },
});
const running = (from: Vm): Vmi => ({ ...vmiFromVm(from), status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] } });
const status = (v: Vm, vmi: Vmi | null) => vmStatus({ vm: v, vmi, strategy: "Always", startFailure: undefined, startExpected: false, stopExpected: false, now: new Date(0) });

test("the hash follows the template's spec and the instancetype and preference named, not key order, labels or the run strategy", () => {
  const a = vm();
  const same: Vm = { ...a, spec: { runStrategy: "Halted", template: { metadata: { labels: { c: "d" } }, spec: { domain: { memory: { guest: "128Mi" }, devices: {} } } } } };
  expect(templateHash(same)).toBe(templateHash(a));
  expect(templateHash(vm("256Mi"))).not.toBe(templateHash(a));
  const it = { ...a, spec: { ...a.spec, instancetype: { name: "u1.small" } } };
  expect(templateHash(it)).not.toBe(templateHash(a));
  // The default kind spelled out, or in another case, is the same instancetype.
  expect(templateHash({ ...a, spec: { ...a.spec, instancetype: { name: "u1.small", kind: "virtualmachineclusterinstancetype" } } })).toBe(templateHash(it));
  expect(templateHash({ ...a, spec: { ...a.spec, instancetype: { name: "u1.medium" } } })).not.toBe(templateHash(it));
});

test("RestartRequired while the running VMI was made from another template; gone after a revert or a restart", () => {
  const before = vm();
  const vmi = running(before);
  expect(vmi.metadata.annotations?.[templateHashAnnotation]).toBe(templateHash(before));
  expect(status(before, vmi).conditions?.some((c) => c.type === "RestartRequired")).toBe(false);
  const edited = vm("256Mi");
  expect(restartRequired(edited, vmi)).toBe(true);
  const s = status(edited, vmi);
  expect(s.conditions?.find((c) => c.type === "RestartRequired")).toMatchObject({ status: "True", message: "a non-live-updatable field was changed in the template spec" });
  // Reverted: the condition goes.
  expect(status({ ...before, status: s }, vmi).conditions?.some((c) => c.type === "RestartRequired")).toBe(false);
  // Restarted: the new VMI is made from the edited template.
  expect(status({ ...edited, status: s }, running(edited)).conditions?.some((c) => c.type === "RestartRequired")).toBe(false);
  // Stopped: no VMI, no condition.
  expect(status({ ...edited, status: s }, null).conditions?.some((c) => c.type === "RestartRequired")).toBe(false);
  // A VMI made before bunvirt kept the hash: unknown, so not claimed.
  const old = running(before);
  delete old.metadata.annotations![templateHashAnnotation];
  expect(restartRequired(edited, old)).toBe(false);
});
