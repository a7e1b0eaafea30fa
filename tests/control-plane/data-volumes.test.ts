/**
 * DataVolumes on a real kube-apiserver, the controller as a process. This
 * tier has no kubelet and no PV controller, so the test plays their parts:
 * it marks the claim Bound, and for the importer pod it runs the pod's
 * command (`bunvirt import`, the compiled executable) with the DataVolume
 * from the pod's annotation, a directory standing in for the claim and an
 * http server on 127.0.0.1, then writes the pod's status as a kubelet would
 * (Running, then Succeeded, or the container's failure with the importer's
 * termination message). The controller decides from that status alone.
 * Without CDI's CRD the controller imports; with a DataVolume CRD installed
 * (a stand-in for CDI: nobody imports, the test sets the DataVolume's phase)
 * it hands templates to CDI and waits for Succeeded.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunvirtCommand, freePort } from "../lib/bunvirt.ts";
import { controlPlaneTier, startControlPlane, type ControlPlane } from "../lib/control-plane.ts";

const skip = controlPlaneTier("control-plane DataVolumes");
const ns = "dvs";
const MiB = 2 ** 20;

interface Obj {
  metadata: { name: string; uid: string; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] };
  spec?: { accessModes?: string[]; volumeMode?: string; resources?: { requests?: Record<string, string> }; containers?: { command?: string[] }[] };
  status?: { printableStatus?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

const vmYaml = (name: string, dv: string, url: string): string => `apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: ${name}, namespace: ${ns}}
spec:
  runStrategy: Always
  dataVolumeTemplates:
  - metadata: {name: ${dv}}
    spec:
      source: {http: {url: "${url}"}}
      storage: {resources: {requests: {storage: 8Mi}}}
  template:
    spec:
      domain:
        devices: {disks: [{name: root, disk: {bus: virtio}}]}
        resources: {requests: {memory: 64Mi}}
      volumes: [{name: root, dataVolume: {name: ${dv}}}]
`;

describe.skipIf(skip !== null)("DataVolumes on kube-apiserver", () => {
  let cp: ControlPlane;
  let dir = "";
  let server: ReturnType<typeof Bun.serve>;
  let proc: Bun.Subprocess<"ignore", "ignore", "pipe"> | undefined;
  let stderr: Promise<string> = Promise.resolve("");
  const disk = new Uint8Array(4 * MiB).fill(0x42, 0, MiB);

  async function startController(): Promise<void> {
    const health = freePort();
    proc = Bun.spawn(
      [...bunvirtCommand(), "--role", "controller", "--kubeconfig", cp.adminKubeconfig, "--health-addr", `127.0.0.1:${health}`, "--launcher-image", "registry.test/bunvirt:dev"],
      { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { PATH: process.env.PATH ?? "", HOME: cp.dir, POD_NAMESPACE: "bunvirt" } },
    );
    stderr = new Response(proc.stderr).text();
    await until("the controller ready", async () => ((await fetch(`http://127.0.0.1:${health}/readyz`).catch(() => null))?.status === 200 ? true : undefined), 60);
  }

  async function stopController(): Promise<string> {
    if (proc === undefined) return "";
    proc.kill("SIGTERM");
    await proc.exited;
    proc = undefined;
    return stderr;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "bunvirt-dv-cp-"));
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => (new URL(req.url).pathname === "/disk.raw" ? new Response(disk) : new Response("no such image", { status: 404 })) });
    cp = await startControlPlane();
    await cp.kubectlOk(["create", "namespace", "bunvirt"]);
    await cp.kubectlOk(["create", "namespace", ns]);
    await cp.kubectlOk(["create", "serviceaccount", "default", "-n", ns]);
    await startController();
  }, 180_000);

  afterAll(async () => {
    const log = await stopController();
    if (process.env.BUNVIRT_TEST_LOG === "1") console.error(log);
    await server?.stop(true);
    await cp?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (kind: string, name: string): Promise<Obj | null> => cp.getJson<Obj>(kind, name, ns);

  async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds = 30): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const got = await probe();
      if (got !== undefined) return got;
      if (Date.now() > deadline || (proc !== undefined && proc.exitCode !== null)) {
        proc?.kill("SIGKILL");
        const state = await cp.kubectl(["get", "vm,vmi,pvc,pod", "-n", ns, "-o", "yaml"]);
        throw new Error(`Timed out waiting for ${what}; controller log:\n${await stderr}\nobjects:\n${state.stdout}`);
      }
      await Bun.sleep(200);
    }
  }

  const events = async (name: string): Promise<string> =>
    cp.kubectlOk(["get", "events", "-n", ns, "--field-selector", `involvedObject.name=${name}`, "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}"]);

  /** The kubelet's part: the importer's command, run here on a directory standing in for the claim. */
  async function runImporter(pod: Obj & { metadata: { annotations?: Record<string, string> } }, claimDir: string): Promise<{ code: number; stdout: string; message: string }> {
    const dv = pod.metadata.annotations?.["bunvirt.io/data-volume"];
    if (dv === undefined) throw new Error("the importer pod has no bunvirt.io/data-volume annotation");
    const name = (JSON.parse(dv) as { metadata: { name: string } }).metadata.name;
    await mkdir(claimDir, { recursive: true });
    const log = join(dir, `${name}.termination-log`);
    const p = Bun.spawn([...bunvirtCommand(), "import", "--data-volume-json", "-", "--claim", `${name}=${claimDir}`, "--termination-log", log], { stdin: new TextEncoder().encode(dv), stdout: "pipe", stderr: "pipe" });
    const [stdout, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    return { code, stdout, message: await readFile(log, "utf8") };
  }

  const setPodStatus = (name: string, status: object): Promise<string> =>
    cp.kubectlOk(["patch", "pod", name, "-n", ns, "--subresource", "status", "--type", "merge", "-p", JSON.stringify({ status })]);

  test("without CDI: the claim and the importer pod are made, the VM shows Provisioning; a finished import is marked on the claim and the VMI follows", async () => {
    await cp.kubectlOk(["apply", "-f", "-"], { stdin: vmYaml("vm-http", "root-dv", `http://127.0.0.1:${server.port}/disk.raw`) });
    const vm = await until("the VM", () => get("vm", "vm-http").then((v) => v ?? undefined));
    const pvc = await until("the claim root-dv", () => get("pvc", "root-dv").then((v) => v ?? undefined));
    expect(pvc.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "VirtualMachine", name: "vm-http", uid: vm.metadata.uid, controller: true })]);
    expect(pvc.spec?.accessModes).toEqual(["ReadWriteOnce"]);
    expect(pvc.spec?.volumeMode).toBe("Filesystem");
    expect(pvc.spec?.resources?.requests?.storage).toBe("9Mi");
    const pod = await until("the importer pod", () => get("pod", "importer-root-dv").then((v) => v ?? undefined));
    expect(pod.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "PersistentVolumeClaim", name: "root-dv", uid: pvc.metadata.uid })]);
    expect(pod.spec?.containers?.[0]?.command?.slice(0, 2)).toEqual(["bunvirt", "import"]);
    // No PV controller here: the claim stays Pending, and the VM says so.
    await until("VM WaitingForVolumeBinding", async () => ((await get("vm", "vm-http"))?.status?.printableStatus === "WaitingForVolumeBinding" ? true : undefined));
    // The test binds it, as kube-controller-manager would to a PersistentVolume.
    await cp.kubectlOk(["patch", "pvc", "root-dv", "-n", ns, "--subresource", "status", "--type", "merge", "-p", JSON.stringify({ status: { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: "9Mi" } } })]);
    const provisioning = await until("VM Provisioning", async () => {
      const v = await get("vm", "vm-http");
      return v?.status?.printableStatus === "Provisioning" ? v : undefined;
    });
    expect(provisioning.status?.conditions).toContainEqual(expect.objectContaining({ type: "DataVolumesReady", status: "False", reason: "ImportScheduled" }));
    expect(await get("vmi", "vm-http")).toBeNull();

    // The kubelet starts the container ...
    await setPodStatus("importer-root-dv", { phase: "Running", containerStatuses: [{ name: "importer", image: "registry.test/bunvirt:dev", imageID: "", ready: true, restartCount: 0, started: true, state: { running: { startedAt: "2026-01-01T00:00:00Z" } } }] });
    await until("ImportInProgress", async () => ((await get("pvc", "root-dv"))?.metadata.annotations?.["cdi.kubevirt.io/storage.pod.phase"] === "Running" ? true : undefined));
    // ... which imports into the claim ...
    const claimDir = join(dir, "claims", "root-dv");
    const run = await runImporter(pod, claimDir);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("progress: 100.00%");
    const written = await readFile(join(claimDir, "disk.img"));
    expect(written.length).toBe(8 * MiB);
    expect(written[0]).toBe(0x42);
    // ... and exits 0: the pod Succeeded.
    await setPodStatus("importer-root-dv", { phase: "Succeeded", containerStatuses: [{ name: "importer", image: "registry.test/bunvirt:dev", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed", message: run.message } } }] });

    const vmi = await until("the VMI after the import", () => get("vmi", "vm-http").then((v) => v ?? undefined));
    expect(vmi.metadata.name).toBe("vm-http");
    const marked = await get("pvc", "root-dv");
    expect(marked?.metadata.annotations?.["cdi.kubevirt.io/storage.pod.phase"]).toBe("Succeeded");
    await until("the importer pod deleted", async () => ((await get("pod", "importer-root-dv")) === null ? true : undefined));
    const recorded = await until("the import's events", async () => {
      const e = await events("vm-http");
      return e.includes("ImportSucceeded") ? e : undefined;
    });
    expect(recorded).toContain("ImportScheduled: Import into root-dv scheduled");
    expect(recorded).toContain("ImportInProgress: Import into root-dv in progress");
    expect(recorded).toContain("ImportSucceeded: Successfully imported into PVC root-dv");
    // Never imported again: a restart of the VM makes no importer pod.
    await cp.kubectlOk(["delete", "vmi", "vm-http", "-n", ns, "--wait=false"]);
    await until("a new VMI", async () => {
      const v = await get("vmi", "vm-http");
      return v !== null && v.metadata.uid !== vmi.metadata.uid ? true : undefined;
    });
    expect(await get("pod", "importer-root-dv")).toBeNull();
  }, 120_000);

  test("without CDI: a failed import shows DataVolumeError with the importer's message, ImportFailed, and no VMI", async () => {
    await cp.kubectlOk(["apply", "-f", "-"], { stdin: vmYaml("vm-broken", "broken-dv", `http://127.0.0.1:${server.port}/missing.raw`) });
    const pod = await until("the importer pod", () => get("pod", "importer-broken-dv").then((v) => v ?? undefined));
    const run = await runImporter(pod, join(dir, "claims", "broken-dv"));
    expect(run.code).toBe(1);
    expect(run.message).toContain("404");
    // The kubelet restarts a container that failed (restartPolicy OnFailure), backing off.
    await setPodStatus("importer-broken-dv", {
      phase: "Running",
      containerStatuses: [{ name: "importer", image: "registry.test/bunvirt:dev", imageID: "", ready: false, restartCount: 1, state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 1, reason: "Error", message: run.message } } }],
    });
    const vm = await until("VM DataVolumeError", async () => {
      const v = await get("vm", "vm-broken");
      return v?.status?.printableStatus === "DataVolumeError" ? v : undefined;
    });
    expect(vm.status?.conditions?.find((c) => c.type === "DataVolumesReady")?.message).toBe(`DataVolume broken-dv: import failed (restarts: 1): ${run.message}`);
    expect(await until("ImportFailed", async () => {
      const e = await events("vm-broken");
      return e.includes("ImportFailed") ? e : undefined;
    })).toContain(`ImportFailed: Import into broken-dv failed: ${run.message}`);
    expect(await get("vmi", "vm-broken")).toBeNull();
  }, 60_000);

  test("with CDI's DataVolume API served: DataVolumes owned by the VM, the VMI once CDI reports Succeeded", async () => {
    // A stand-in for CDI: its DataVolume CRD only (nothing imports; the test writes the phase CDI would).
    await cp.kubectlOk(["apply", "-f", "-"], {
      stdin: `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: datavolumes.cdi.kubevirt.io}
spec:
  group: cdi.kubevirt.io
  names: {kind: DataVolume, plural: datavolumes, singular: datavolume, listKind: DataVolumeList}
  scope: Namespaced
  versions:
  - name: v1beta1
    served: true
    storage: true
    subresources: {status: {}}
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`,
    });
    await cp.kubectlOk(["wait", "--for=condition=Established", "crd/datavolumes.cdi.kubevirt.io", "--timeout=30s"]);
    // CDI is looked for once, at start.
    await stopController();
    await startController();
    await cp.kubectlOk(["apply", "-f", "-"], { stdin: vmYaml("vm-cdi", "cdi-dv", "http://example.invalid/disk.raw") });
    const vm = await until("the VM", () => get("vm", "vm-cdi").then((v) => v ?? undefined));
    const dv = await until("the DataVolume", () => get("datavolume", "cdi-dv").then((v) => v ?? undefined));
    expect(dv.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "VirtualMachine", name: "vm-cdi", uid: vm.metadata.uid, controller: true })]);
    expect(await get("pvc", "cdi-dv")).toBeNull();
    expect(await get("pod", "importer-cdi-dv")).toBeNull();
    await until("VM Provisioning", async () => ((await get("vm", "vm-cdi"))?.status?.printableStatus === "Provisioning" ? true : undefined));
    expect(await get("vmi", "vm-cdi")).toBeNull();
    await cp.kubectlOk(["patch", "datavolume", "cdi-dv", "-n", ns, "--subresource", "status", "--type", "merge", "-p", JSON.stringify({ status: { phase: "Succeeded", progress: "100.0%" } })]);
    await until("the VMI after CDI's import", () => get("vmi", "vm-cdi").then((v) => v ?? undefined));
  }, 120_000);
});
