/**
 * The controller as a process against a real kube-apiserver (no node, no
 * scheduler, no garbage collector: pods stay Pending and every deletion is
 * the controller's finalizer work): the webhooks over TLS registered by the
 * controller convert the seed's v1alpha1 VM to v1, default it and refuse an
 * invalid one with the field path and rule; a running VM gets its VMI and a
 * launcher pod (labels, owners, resources, Scheduling, Events); Halted and
 * Always stop and start it; deleting the VM takes the VMI and pod with it;
 * with two replicas only the Lease holder reconciles and registers the
 * webhooks, both serve with the CA they share, and admission works after a
 * failover.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { bunvirtCommand, freePort, repoRoot } from "../lib/bunvirt.ts";
import { controlPlaneTier, startControlPlane, type ControlPlane } from "../lib/control-plane.ts";

/** The v1alpha1 example (the seed manifest), kept in one place. */
export const seedVmPath = join(repoRoot, "examples/vm-v1alpha1.yaml");
const testvmPath = join(repoRoot, "tests/fixtures/user-guide/quickstart-testvm.yaml");

const skip = controlPlaneTier("control-plane reconcile");
const ns = "vms";

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; uid: string; labels?: Record<string, string>; finalizers?: string[]; ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[]; deletionTimestamp?: string };
  spec?: Record<string, unknown> & { containers?: { name: string; resources?: { requests?: Record<string, string> } }[]; runStrategy?: string };
  status?: Record<string, unknown> & { phase?: string; printableStatus?: string };
}

interface Controller {
  name: string;
  proc: Bun.Subprocess<"ignore", "ignore", "pipe">;
  health: string;
  /** https://127.0.0.1:PORT of its webhooks. */
  webhookUrl: string;
  stderr: Promise<string>;
}

describe.skipIf(skip !== null)("controller reconciles on kube-apiserver", () => {
  let cp: ControlPlane;
  const controllers: Controller[] = [];
  let proc: Controller["proc"] | undefined;
  let stderr: Promise<string> = Promise.resolve("");

  /** Starts a controller serving and registering its own webhooks; its Lease lasts 5 s. */
  function startController(name: string): Controller {
    const health = freePort();
    const webhook = freePort();
    const p = Bun.spawn(
      [...bunvirtCommand(), "--role", "controller", "--kubeconfig", cp.adminKubeconfig, "--health-addr", `127.0.0.1:${health}`,
        "--webhook-addr", `127.0.0.1:${webhook}`, "--webhook-url", `https://127.0.0.1:${webhook}`,
        "--launcher-image", "registry.test/bunvirt:dev", "--leader-elect-lease-duration", "5", "--leader-elect-retry-period", "0.5"],
      { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { PATH: process.env.PATH ?? "", HOME: cp.dir, POD_NAME: name, POD_NAMESPACE: "bunvirt" } },
    );
    const c = { name, proc: p, health: `http://127.0.0.1:${health}`, webhookUrl: `https://127.0.0.1:${webhook}`, stderr: new Response(p.stderr).text() };
    controllers.push(c);
    return c;
  }

  async function readyz(c: Controller): Promise<{ status: number; body: string }> {
    const r = await fetch(`${c.health}/readyz`).catch(() => null);
    return r === null ? { status: 0, body: "not listening" } : { status: r.status, body: await r.text() };
  }

  beforeAll(async () => {
    cp = await startControlPlane();
    await cp.kubectlOk(["create", "namespace", "bunvirt"]);
    await cp.kubectlOk(["create", "namespace", ns]);
    // No controller-manager here to make it; the ServiceAccount admission plugin needs it for pods.
    await cp.kubectlOk(["create", "serviceaccount", "default", "-n", ns]);
    const c = startController("c1");
    proc = c.proc;
    stderr = c.stderr;
    const deadline = Date.now() + 60_000;
    let last = await readyz(c);
    while (last.status !== 200 && Date.now() < deadline && c.proc.exitCode === null) {
      await Bun.sleep(200);
      last = await readyz(c);
    }
    if (last.status === 200) return;
    c.proc.kill("SIGKILL");
    throw new Error(`controller not ready: ${last.status} ${last.body}\n${await c.stderr}`);
  }, 180_000);

  afterAll(async () => {
    for (const c of controllers) {
      c.proc.kill("SIGCONT");
      c.proc.kill("SIGTERM");
      const code = await c.proc.exited;
      if (code !== 0 || process.env.BUNVIRT_TEST_LOG === "1") console.error(`controller ${c.name} exited ${code}:\n${await c.stderr}`);
    }
    await cp?.stop();
  });

  const get = (kind: string, name: string): Promise<Obj | null> => cp.getJson<Obj>(kind, name, ns);
  const launcherPods = async (vmName: string): Promise<Obj[]> =>
    (JSON.parse(await cp.kubectlOk(["get", "pods", "-n", ns, "-l", `kubevirt.io=virt-launcher,vm.kubevirt.io/name=${vmName}`, "-o", "json"])) as { items: Obj[] }).items;

  /** Polls until `probe` returns a value other than undefined; fails naming `what` and the controller's log. */
  async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds = 30): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const got = await probe();
      if (got !== undefined) return got;
      if (Date.now() > deadline || proc?.exitCode !== null) {
        for (const c of controllers) c.proc.kill("SIGKILL");
        const logs = await Promise.all(controllers.map(async (c) => `--- ${c.name}:\n${await c.stderr}`));
        throw new Error(`Timed out waiting for ${what}; controller logs:\n${logs.join("\n")}`);
      }
      await Bun.sleep(200);
    }
  }

  test("the seed's v1alpha1 VM goes through the conversion webhook: stored and shown as v1, defaulted, readable as v1alpha1", async () => {
    const out = await cp.kubectlOk(["apply", "-n", ns, "-f", seedVmPath]);
    expect(out).toContain("virtualmachine.kubevirt.io/myvm created");
    const yaml = await cp.kubectlOk(["get", "vm", "myvm", "-n", ns, "-o", "yaml"]);
    expect(yaml).toMatch(/^apiVersion: kubevirt\.io\/v1$/m);
    const vm = (await get("vm", "myvm"))!;
    expect(vm.spec?.runStrategy).toBe("Always");
    // The mutating webhook's defaults (KubeVirt's): machine type, firmware UUID and serial.
    const domain = (vm.spec as { template: { spec: { domain: { machine?: { type?: string }; firmware?: { uuid?: string; serial?: string } } } } }).template.spec.domain;
    expect(domain.machine?.type).toBe("q35");
    expect(domain.firmware?.uuid).toMatch(/^[0-9a-f-]{36}$/);
    const alpha = JSON.parse(await cp.kubectlOk(["get", "virtualmachines.v1alpha1.kubevirt.io", "myvm", "-n", ns, "-o", "json"])) as Obj;
    expect(alpha.apiVersion).toBe("kubevirt.io/v1alpha1");
    expect((alpha.spec as { volumes: { registryDisk?: { image: string } }[] }).volumes[0]!.registryDisk?.image).toBe("kubevirt/cirros-registry-disk-demo:devel");
    // It runs (runStrategy Always): a VMI and a pod follow.
    await until("myvm's launcher pod", async () => ((await launcherPods("myvm")).length === 1 ? true : undefined));
  }, 60_000);

  test("a v1 VM with runStrategy Always gets a VMI (Scheduling) and one launcher pod with KubeVirt's labels, owners and resources", async () => {
    const manifest = readFileSync(testvmPath, "utf8").replace("runStrategy: Halted", "runStrategy: Always");
    await cp.kubectlOk(["apply", "-n", ns, "-f", "-"], { stdin: manifest });
    const vm = (await get("vm", "testvm"))!;
    const vmi = await until("testvm's VMI in Scheduling", async () => {
      const got = await get("vmi", "testvm");
      return got?.status?.phase === "Scheduling" ? got : undefined;
    });
    expect(vmi.metadata.ownerReferences).toEqual([{ apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", name: "testvm", uid: vm.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(vmi.metadata.finalizers?.sort()).toEqual(["kubevirt.io/foregroundDeleteVirtualMachine", "kubevirt.io/virtualMachineControllerFinalizer"]);
    expect(vmi.metadata.labels?.["kubevirt.io/size"]).toBe("small");

    const pods = await launcherPods("testvm");
    expect(pods).toHaveLength(1);
    const pod = pods[0]!;
    expect(pod.metadata.name).toMatch(/^virt-launcher-testvm-[a-z0-9]{5}$/);
    expect(pod.metadata.labels).toMatchObject({ "kubevirt.io": "virt-launcher", "kubevirt.io/created-by": vmi.metadata.uid, "vm.kubevirt.io/name": "testvm", "kubevirt.io/size": "small" });
    expect(pod.metadata.ownerReferences).toEqual([{ apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", name: "testvm", uid: vmi.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    // 64M of guest memory (61.04 MiB) + the launcher's 130 MiB, rounded up.
    // Without --emulation: /dev/kvm and /dev/net/tun from the handler's device plugins.
    expect(pod.spec?.containers?.[0]?.resources?.requests).toEqual({ memory: "192Mi", cpu: "100m", "devices.kubevirt.io/kvm": "1", "devices.kubevirt.io/tun": "1" });
    expect(pod.status?.phase).toBe("Pending");

    const status = await until("testvm's status Starting, created", async () => {
      const got = await get("vm", "testvm");
      return got?.status?.printableStatus === "Starting" && got.status.created === true ? got.status : undefined;
    });
    expect(status.ready).toBe(false);
    const events = await cp.kubectlOk(["get", "events", "-n", ns, "--field-selector", "involvedObject.name=testvm", "-o", "jsonpath={range .items[*]}{.involvedObject.kind} {.reason}{\"\\n\"}{end}"]);
    expect(events).toContain("VirtualMachine SuccessfulCreate");
    expect(events).toContain("VirtualMachineInstance SuccessfulCreate");
    const described = await cp.kubectlOk(["describe", "vm", "testvm", "-n", ns]);
    expect(described).toMatch(/Normal\s+SuccessfulCreate\s+.*bunvirt-controller\s+Started the virtual machine by creating the new virtual machine instance testvm/);
  }, 60_000);

  test("an invalid VM is refused by the validating webhook with the field path and rule; nothing is created", async () => {
    const bad = readFileSync(testvmPath, "utf8").replace("name: testvm", "name: badvm").replace("- name: cloudinitdisk\n          cloudInitNoCloud", "- name: other\n          cloudInitNoCloud");
    const r = await cp.kubectl(["apply", "-n", ns, "-f", "-"], { stdin: bad });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.template.spec.domain.devices.disks[1].name: disk "cloudinitdisk" has no volume of the same name');
    expect(r.stderr).not.toContain("volumes[1]"); // a volume without a disk gets one (KubeVirt's defaulting)
    // kubectl shows the causes; the API server's Status names the webhook that decided.
    const res = await fetch(`${cp.server}/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachines`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(parse(bad)),
      tls: { ca: readFileSync(`${cp.pki}/ca.crt`), cert: readFileSync(`${cp.pki}/admin.crt`), key: readFileSync(`${cp.pki}/admin.key`) },
    });
    expect(res.status).toBe(422);
    const status = (await res.json()) as { message: string; details: { causes: { reason: string; field: string; message: string }[] } };
    expect(status.message).toStartWith('admission webhook "virtualmachines.validate.bunvirt.io" denied the request: ');
    expect(status.details.causes).toContainEqual({ reason: "FieldValueInvalid", field: "spec.template.spec.domain.devices.disks[1].name", message: 'disk "cloudinitdisk" has no volume of the same name' });
    expect(await get("vm", "badvm")).toBeNull();
    expect(await get("vmi", "badvm")).toBeNull();
    // An update that breaks the spec is refused too (updates leaving the spec alone skip the webhooks).
    const patch = await cp.kubectl(["patch", "vm", "testvm", "-n", ns, "--type", "json", "-p", '[{"op":"replace","path":"/spec/template/spec/volumes/1/name","value":"other"}]']);
    expect(patch.code).not.toBe(0);
    expect(patch.stderr).toContain('spec.template.spec.domain.devices.disks[1].name: disk "cloudinitdisk" has no volume of the same name');
  });

  test("the controller's own VMI creates skip the VMI webhooks (it defaults and checks them itself); a VMI created on its own goes through them", async () => {
    const config = JSON.parse(await cp.kubectlOk(["get", "validatingwebhookconfiguration", "bunvirt-validator", "-o", "json"])) as { webhooks: { name: string; matchConditions: { name: string; expression: string }[] }[] };
    const vmiHook = config.webhooks.find((w) => w.name === "virtualmachineinstances.validate.bunvirt.io")!;
    // The controller runs with the admin kubeconfig here: its user, learned from a SelfSubjectReview.
    expect(vmiHook.matchConditions.find((m) => m.name === "not-the-controllers-own-create")?.expression).toContain('request.userInfo.username == "admin"');
    // The same user, a VMI no VM controls: refused by the webhook.
    const bad = { apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", metadata: { name: "badvmi" },
      spec: { domain: { devices: { disks: [{ name: "d" }] }, memory: { guest: "64M" } }, volumes: [{ name: "other", containerDisk: { image: "x" } }] } };
    // The API server's Status names the webhook that decided (kubectl shows only the causes).
    const res = await fetch(`${cp.server}/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(bad),
      tls: { ca: readFileSync(`${cp.pki}/ca.crt`), cert: readFileSync(`${cp.pki}/admin.crt`), key: readFileSync(`${cp.pki}/admin.key`) },
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toStartWith('admission webhook "virtualmachineinstances.validate.bunvirt.io" denied the request: ');
    expect(await get("vmi", "badvmi")).toBeNull();
  });

  test("runStrategy Always -> Halted deletes the VMI and its pod; Halted -> Always makes new ones", async () => {
    const before = (await get("vmi", "testvm"))!;
    await cp.kubectlOk(["patch", "vm", "testvm", "-n", ns, "--type", "merge", "-p", '{"spec":{"runStrategy":"Halted"}}']);
    await until("testvm's VMI and pod gone", async () => ((await get("vmi", "testvm")) === null && (await launcherPods("testvm")).length === 0 ? true : undefined));
    await until("testvm Stopped", async () => ((await get("vm", "testvm"))?.status?.printableStatus === "Stopped" ? true : undefined));

    await cp.kubectlOk(["patch", "vm", "testvm", "-n", ns, "--type", "merge", "-p", '{"spec":{"runStrategy":"Always"}}']);
    const again = await until("a new VMI in Scheduling", async () => {
      const got = await get("vmi", "testvm");
      return got?.status?.phase === "Scheduling" ? got : undefined;
    });
    expect(again.metadata.uid).not.toBe(before.metadata.uid);
    const pods = await until("one new pod", async () => {
      const got = await launcherPods("testvm");
      return got.length === 1 ? got : undefined;
    });
    expect(pods[0]!.metadata.labels?.["kubevirt.io/created-by"]).toBe(again.metadata.uid);
  }, 60_000);

  test("deleting the VM takes its VMI and launcher pod with it (finalizers, no garbage collector)", async () => {
    await cp.kubectlOk(["delete", "vm", "myvm", "testvm", "-n", ns, "--wait=false"]);
    await until("the VMs, VMIs and pods gone", async () => {
      const left = JSON.parse(await cp.kubectlOk(["get", "vm,vmi,pods", "-n", ns, "-o", "json"])) as { items: Obj[] };
      return left.items.length === 0 ? true : undefined;
    });
  }, 60_000);

  test("only the Lease holder reconciles and registers the webhooks; the replicas share one CA, so admission works after a failover", async () => {
    const leader = controllers[0]!;
    const standby = startController("c2");
    // The standby serves its webhooks with a certificate from the shared CA, and registers nothing.
    await until("the standby serving its webhooks, standing by", async () => {
      const r = await readyz(standby);
      return r.status === 503 && r.body.includes("leader: standby") && !r.body.includes("webhooks:") ? true : undefined;
    });
    const secret = JSON.parse(await cp.kubectlOk(["get", "secret", "bunvirt-webhook-ca", "-n", "bunvirt", "-o", "json"])) as { data: Record<string, string> };
    const caPem = Buffer.from(secret.data["ca.crt"]!, "base64").toString("utf8");
    const registered = async (): Promise<{ url: string; caBundle: string }> => {
      const v = JSON.parse(await cp.kubectlOk(["get", "validatingwebhookconfiguration", "bunvirt-validator", "-o", "json"])) as { webhooks: { clientConfig: { url: string; caBundle: string } }[] };
      return v.webhooks[0]!.clientConfig;
    };
    const before = await registered();
    expect(Buffer.from(before.caBundle, "base64").toString("utf8")).toBe(caPem);
    expect(before.url).toStartWith(leader.webhookUrl);
    // Both replicas' certificates chain to that CA.
    for (const c of [leader, standby]) expect((await fetch(`${c.webhookUrl}/nowhere`, { tls: { ca: caPem } })).status).toBe(404);

    // A VM with runStrategy Manual waits for a start request; the leader has seen it once it is Stopped.
    const manifest = readFileSync(testvmPath, "utf8").replace("name: testvm", "name: takeover").replace("runStrategy: Halted", "runStrategy: Manual");
    await cp.kubectlOk(["apply", "-n", ns, "-f", "-"], { stdin: manifest });
    await until("takeover Stopped", async () => ((await get("vm", "takeover"))?.status?.printableStatus === "Stopped" ? true : undefined));
    leader.proc.kill("SIGSTOP");
    // A start request (what virtctl start writes) through the status subresource, which no webhook sees.
    await cp.kubectlOk(["patch", "vm", "takeover", "-n", ns, "--subresource=status", "--type", "merge", "-p", '{"status":{"stateChangeRequests":[{"action":"Start"}]}}']);
    const vmiBefore = await get("vmi", "takeover");
    // Read after the VMI: the standby had not taken over when the VMI was looked for, and the leader is frozen.
    const standbyThen = await readyz(standby);
    if (standbyThen.status === 503) expect(vmiBefore).toBeNull();
    else console.error("the standby took over before the VMI was looked for: the no-VMI check did not apply this run");
    // Ready once leading with its webhooks registered.
    await until("the standby leading", async () => ((await readyz(standby)).status === 200 ? true : undefined));
    const vmi = await until("the VMI made by the new leader", async () => {
      const got = await get("vmi", "takeover");
      return got?.status?.phase === "Scheduling" ? got : undefined;
    });
    expect((await launcherPods("takeover")).map((p) => p.metadata.labels?.["kubevirt.io/created-by"])).toEqual([vmi.metadata.uid]);
    // The new leader pointed admission at itself with the same CA: the webhooks answer while the old leader is frozen.
    const after = await registered();
    expect(after.caBundle).toBe(before.caBundle);
    expect(after.url).toStartWith(standby.webhookUrl);
    const bad = readFileSync(testvmPath, "utf8").replace("name: testvm", "name: badvm2").replace("- name: cloudinitdisk\n          cloudInitNoCloud", "- name: other\n          cloudInitNoCloud");
    const refused = await cp.kubectl(["apply", "-n", ns, "-f", "-"], { stdin: bad });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('spec.template.spec.domain.devices.disks[1].name: disk "cloudinitdisk" has no volume of the same name');
    const v1alpha1 = readFileSync(seedVmPath, "utf8").replace("name: myvm", "name: afterfailover");
    await cp.kubectlOk(["apply", "-n", ns, "-f", "-"], { stdin: v1alpha1 });
    expect((await get("vm", "afterfailover"))?.apiVersion).toBe("kubevirt.io/v1");
    // The old leader, thawed, finds the Lease taken and stops reconciling (not ready, standby).
    leader.proc.kill("SIGCONT");
    await until("the old leader standing by", async () => ((await readyz(leader)).body.includes(`the leader is "c2_`) ? true : undefined));
    expect((await registered()).url).toStartWith(standby.webhookUrl);
    await cp.kubectlOk(["delete", "vm", "takeover", "afterfailover", "-n", ns, "--wait=false"]);
    await until("takeover's VMI and pod gone", async () => ((await get("vmi", "takeover")) === null && (await launcherPods("takeover")).length === 0 ? true : undefined));
  }, 90_000);
});
