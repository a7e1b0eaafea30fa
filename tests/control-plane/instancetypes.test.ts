/**
 * Instancetypes and preferences on a real kube-apiserver, with the
 * controller as a process (its webhooks registered at --webhook-url; no
 * node, so VMIs stay Scheduling): the leader applies the shipped cluster
 * instancetypes and preferences on a fresh cluster; a VM naming an
 * instancetype and a preference gets a ControllerRevision of each, named in
 * its status, and a VMI sized and defaulted by them; editing the
 * instancetype leaves the VMI, and the VMI of a restart, as first expanded;
 * a VM in conflict with its instancetype is refused naming the field; a VM
 * naming a missing instancetype is admitted with a warning, shows it in its
 * status and starts once it exists; the preference's machine type is the
 * default one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { stringify } from "yaml";
import { bunvirtCommand, freePort } from "../lib/bunvirt.ts";
import { controlPlaneTier, startControlPlane, type ControlPlane } from "../lib/control-plane.ts";
import { commonInstancetypes } from "../../src/roles/controller/instancetype/common.ts";

const skip = controlPlaneTier("control-plane instancetypes");
const ns = "sized";

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; uid: string; annotations?: Record<string, string>; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] };
  spec?: any;
  status?: any;
  data?: any;
}

const vm = (name: string, spec: Record<string, unknown>, domain: Record<string, unknown> = {}): string => stringify({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name },
  spec: {
    runStrategy: "Always",
    ...spec,
    template: { spec: { domain: { devices: {}, ...domain }, volumes: [{ name: "root", containerDisk: { image: "kubevirt/cirros-registry-disk-demo:devel" } }] } },
  },
});

describe.skipIf(skip !== null)("instancetypes and preferences on kube-apiserver", () => {
  let cp: ControlPlane;
  let proc: Bun.Subprocess<"ignore", "ignore", "pipe"> | undefined;
  let stderr: Promise<string> = Promise.resolve("");

  beforeAll(async () => {
    cp = await startControlPlane();
    for (const n of ["bunvirt", ns]) await cp.kubectlOk(["create", "namespace", n]);
    await cp.kubectlOk(["create", "serviceaccount", "default", "-n", ns]);
    const health = freePort();
    const webhook = freePort();
    proc = Bun.spawn(
      [...bunvirtCommand(), "--role", "controller", "--kubeconfig", cp.adminKubeconfig, "--health-addr", `127.0.0.1:${health}`,
        "--webhook-addr", `127.0.0.1:${webhook}`, "--webhook-url", `https://127.0.0.1:${webhook}`, "--launcher-image", "registry.test/bunvirt:dev"],
      { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { PATH: process.env.PATH ?? "", HOME: cp.dir, POD_NAME: "c1", POD_NAMESPACE: "bunvirt" } },
    );
    stderr = new Response(proc.stderr).text();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && proc.exitCode === null) {
      const r = await fetch(`http://127.0.0.1:${health}/readyz`).catch(() => null);
      if (r?.status === 200) return;
      await Bun.sleep(200);
    }
    proc.kill("SIGKILL");
    throw new Error(`controller not ready:\n${await stderr}`);
  }, 180_000);

  afterAll(async () => {
    proc?.kill("SIGTERM");
    const code = await proc?.exited;
    if (code !== 0 || process.env.BUNVIRT_TEST_LOG === "1") console.error(`controller exited ${code}:\n${await stderr}`);
    await cp?.stop();
  });

  const get = (kind: string, name: string, namespace: string | null = ns): Promise<Obj | null> => cp.getJson<Obj>(kind, name, namespace);

  async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds = 30): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const got = await probe();
      if (got !== undefined) return got;
      if (Date.now() > deadline || proc?.exitCode !== null) {
        proc?.kill("SIGKILL");
        throw new Error(`Timed out waiting for ${what}; controller log:\n${await stderr}`);
      }
      await Bun.sleep(200);
    }
  }
  const scheduling = (name: string) => until(`${name}'s VMI in Scheduling`, async () => {
    const got = await get("vmi", name);
    return got?.status?.phase === "Scheduling" ? got : undefined;
  });

  test("on a fresh cluster the leader applies the shipped cluster instancetypes and preferences", async () => {
    const names = await until("the shipped instancetypes and preferences", async () => {
      const r = await cp.kubectl(["get", "vmcf,vmcp", "-o", "jsonpath={range .items[*]}{.kind}/{.metadata.name} {end}"]);
      const got = r.stdout.trim().split(" ").filter((x) => x !== "").sort();
      return got.length === commonInstancetypes.length ? got : undefined;
    });
    expect(names).toEqual(commonInstancetypes.map((o) => `${o.kind}/${o.metadata.name}`).sort());
    const medium = (await get("virtualmachineclusterinstancetype", "u1.medium", null))!;
    expect(medium.spec).toEqual({ cpu: { guest: 1 }, memory: { guest: "4Gi" } });
    // kubectl's columns.
    expect(await cp.kubectlOk(["get", "vmcf", "u1.large"])).toMatch(/^u1\.large\s+2\s+8Gi\s+/m);
  }, 60_000);

  let firstVmi: Obj;
  let revisionName = "";

  test("a VM naming an instancetype and a preference: ControllerRevisions named in its status, a VMI sized and defaulted by them", async () => {
    await cp.kubectlOk(["apply", "-n", ns, "-f", "-"], {
      stdin: stringify({ apiVersion: "instancetype.kubevirt.io/v1beta1", kind: "VirtualMachineInstancetype", metadata: { name: "two" }, spec: { cpu: { guest: 2 }, memory: { guest: "2Gi" } } }),
    });
    await cp.kubectlOk(["apply", "-n", ns, "-f", "-"], { stdin: vm("sized", { instancetype: { name: "two", kind: "VirtualMachineInstancetype" }, preference: { name: "fedora" } }) });
    firstVmi = await scheduling("sized");
    const domain = firstVmi.spec.domain;
    expect(domain.cpu).toMatchObject({ sockets: 2, cores: 1, threads: 1 });
    expect(domain.memory).toEqual({ guest: "2Gi" });
    expect(domain.devices.disks).toEqual([{ name: "root", disk: { bus: "virtio" } }]);
    expect(domain.devices.rng).toEqual({});
    expect(firstVmi.metadata.annotations).toMatchObject({ "kubevirt.io/instancetype-name": "two", "kubevirt.io/cluster-preference-name": "fedora" });

    const vmNow = (await get("vm", "sized"))!;
    // The VM itself is not expanded: its template leaves the size to the instancetype.
    expect(vmNow.spec.template.spec.domain.memory).toBeUndefined();
    const { instancetypeRef, preferenceRef } = vmNow.status;
    expect(instancetypeRef).toMatchObject({ name: "two", kind: "VirtualMachineInstancetype" });
    expect(preferenceRef).toMatchObject({ name: "fedora", kind: "VirtualMachineClusterPreference" });
    revisionName = instancetypeRef.controllerRevisionRef.name;
    const two = (await get("vminstancetype", "two"))!;
    expect(revisionName).toBe(`sized-two-v1beta1-${two.metadata.uid}-1`);
    const rev = (await get("controllerrevision", revisionName))!;
    expect(rev.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "VirtualMachine", name: "sized", uid: vmNow.metadata.uid, controller: true })]);
    expect(rev.metadata.labels).toMatchObject({ "instancetype.kubevirt.io/object-kind": "VirtualMachineInstancetype", "instancetype.kubevirt.io/object-name": "two" });
    expect(rev.data).toMatchObject({ apiVersion: "instancetype.kubevirt.io/v1beta1", kind: "VirtualMachineInstancetype", spec: { cpu: { guest: 2 }, memory: { guest: "2Gi" } } });
    expect(await get("controllerrevision", preferenceRef.controllerRevisionRef.name)).not.toBeNull();
  }, 60_000);

  test("editing the instancetype leaves the running VMI unchanged (no RestartRequired); editing the VM asks for a restart, which uses the stored revision", async () => {
    await cp.kubectlOk(["patch", "vminstancetype", "two", "-n", ns, "--type", "merge", "-p", '{"spec":{"memory":{"guest":"4Gi"}}}']);
    // The controller is told of the change (it retries VMs that wait for an instancetype): give it time to act wrongly.
    await Bun.sleep(3000);
    const vmi = (await get("vmi", "sized"))!;
    expect(vmi.metadata.uid).toBe(firstVmi.metadata.uid);
    expect(vmi.spec.domain.memory).toEqual({ guest: "2Gi" });
    const vmNow = (await get("vm", "sized"))!;
    expect(vmNow.status.instancetypeRef.controllerRevisionRef.name).toBe(revisionName);
    // The VM's own expansion did not change (its revision is kept): no restart is asked for.
    expect((vmNow.status.conditions ?? []).some((c: { type: string }) => c.type === "RestartRequired")).toBe(false);

    // An edit of the VM's template is another matter: KubeVirt's RestartRequired until the restart below.
    await cp.kubectlOk(["patch", "vm", "sized", "-n", ns, "--type", "merge", "-p", '{"spec":{"template":{"spec":{"terminationGracePeriodSeconds":7}}}}']);
    const restart = await until("sized's RestartRequired condition", async () =>
      ((await get("vm", "sized"))!.status.conditions ?? []).find((c: { type: string }) => c.type === "RestartRequired"));
    expect(restart).toMatchObject({ status: "True", message: "a non-live-updatable field was changed in the template spec" });
    expect((await get("vmi", "sized"))!.spec.terminationGracePeriodSeconds).toBeUndefined();

    await cp.kubectlOk(["patch", "vm", "sized", "-n", ns, "--type", "merge", "-p", '{"spec":{"runStrategy":"Halted"}}']);
    await until("sized's VMI gone", async () => ((await get("vmi", "sized")) === null ? true : undefined));
    await cp.kubectlOk(["patch", "vm", "sized", "-n", ns, "--type", "merge", "-p", '{"spec":{"runStrategy":"Always"}}']);
    const again = await scheduling("sized");
    expect(again.metadata.uid).not.toBe(firstVmi.metadata.uid);
    expect(again.spec.domain.memory).toEqual({ guest: "2Gi" });
    expect(again.spec.terminationGracePeriodSeconds).toBe(7);
    const restarted = await until("sized's RestartRequired condition gone", async () => {
      const got = (await get("vm", "sized"))!;
      return (got.status.conditions ?? []).some((c: { type: string }) => c.type === "RestartRequired") ? undefined : got;
    });
    expect(restarted.status.instancetypeRef.controllerRevisionRef.name).toBe(revisionName);
  }, 90_000);

  test("a VM that sets what its instancetype sets is refused by the webhook, naming the field", async () => {
    const r = await cp.kubectl(["apply", "-n", ns, "-f", "-"], { stdin: vm("clash", { instancetype: { name: "u1.small" } }, { cpu: { sockets: 2 } }) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.template.spec.domain.cpu.sockets");
    expect(r.stderr).toContain('instancetype "u1.small"');
    expect(await get("vm", "clash")).toBeNull();
  });

  test("a VM naming a missing instancetype is admitted with a warning, shows it in its status, and starts once it exists", async () => {
    const r = await cp.kubectl(["apply", "-n", ns, "-f", "-"], { stdin: vm("waiting", { instancetype: { name: "u9.later" } }) });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Warning: VirtualMachineClusterInstancetype "u9.later" not found');
    const failure = await until("waiting's Failure condition", async () => {
      const got = await get("vm", "waiting");
      return got?.status?.conditions?.find((c: { type: string }) => c.type === "Failure");
    });
    expect(failure).toMatchObject({ status: "True", reason: "FailedFindInstancetype", message: 'VirtualMachineClusterInstancetype "u9.later" not found' });
    expect(await get("vmi", "waiting")).toBeNull();
    const events = await cp.kubectlOk(["get", "events", "-n", ns, "--field-selector", "involvedObject.name=waiting", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}"]);
    expect(events).toContain('FailedFindInstancetype: VirtualMachineClusterInstancetype "u9.later" not found');

    await cp.kubectlOk(["apply", "-f", "-"], {
      stdin: stringify({ apiVersion: "instancetype.kubevirt.io/v1beta1", kind: "VirtualMachineClusterInstancetype", metadata: { name: "u9.later" }, spec: { cpu: { guest: 1 }, memory: { guest: "256Mi" } } }),
    });
    const vmi = await scheduling("waiting");
    expect(vmi.spec.domain.memory).toEqual({ guest: "256Mi" });
    await until("waiting's Failure condition gone", async () => {
      const got = await get("vm", "waiting");
      return got?.status?.conditions?.some((c: { type: string }) => c.type === "Failure") === false ? true : undefined;
    });
  }, 60_000);

  test("the preference's machine type comes before the default; an invalid instancetype is refused by the webhook", async () => {
    await cp.kubectlOk(["apply", "-n", ns, "-f", "-"], {
      stdin: stringify({ apiVersion: "instancetype.kubevirt.io/v1beta1", kind: "VirtualMachinePreference", metadata: { name: "older" }, spec: { machine: { preferredMachineType: "pc-q35-7.2" } } }),
    });
    await cp.kubectlOk(["apply", "-n", ns, "-f", "-"], { stdin: vm("machined", { runStrategy: "Halted", instancetype: { name: "u1.nano" }, preference: { name: "older", kind: "VirtualMachinePreference" } }) });
    expect((await get("vm", "machined"))!.spec.template.spec.domain.machine).toEqual({ type: "pc-q35-7.2" });
    const bad = await cp.kubectl(["apply", "-n", ns, "-f", "-"], {
      stdin: stringify({ apiVersion: "instancetype.kubevirt.io/v1beta1", kind: "VirtualMachineInstancetype", metadata: { name: "huge" }, spec: { cpu: { guest: 1 }, memory: { guest: "9Pi" } } }),
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("spec.memory.guest");
  }, 60_000);
});
