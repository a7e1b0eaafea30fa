/**
 * A DataVolume imported in a cluster without CDI, under a real kubelet: a VM
 * whose root disk is a dataVolumeTemplate with an http source (the test
 * guest's qcow2, served by this process on the host end of the node's veth,
 * 10.250.0.1, which pods reach) gets its claim bound to a hostPath PV (the
 * node has no provisioner), the controller's importer pod runs `bunvirt
 * import` from the launcher image under the kubelet, the claim is marked
 * Succeeded, the pod deleted, and the VM boots from the imported disk. A
 * second template imports the guest's container disk from the harness's
 * registry (10.250.0.1, plain HTTP: the controller's --insecure-registry
 * reaches the importer pod) into a second claim, byte for byte, and a third
 * is blank. The
 * image is served slowly (about 13 s, with its Content-Length) so the
 * import's percent, read by the controller from the importer's log, shows in
 * the VM's DataVolumesReady condition and its events while it runs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../lib/bunvirt.ts";
import { clusterTier, hostAddress } from "../lib/cluster-node.ts";
import { type E2eCluster, startE2e, until } from "../lib/e2e-cluster.ts";

const skip = clusterTier("cluster DataVolume");
const pvDir = join(tmpdir(), `bunvirt-dv-pv-${process.pid}`);
const regDir = join(tmpdir(), `bunvirt-dv-pv-reg-${process.pid}`);
const blankDir = join(tmpdir(), `bunvirt-dv-pv-blank-${process.pid}`);
const name = "dv-http";

describe.skipIf(skip !== null)("a DataVolume imported by bunvirt's importer pod", () => {
  let e: E2eCluster | undefined;
  let server: Server | undefined;
  let port = 0;
  let gets = 0;
  let guestDir = "";

  beforeAll(async () => {
    const build = Bun.spawnSync([join(repoRoot, "scripts/guest/build.sh")], { stdout: "pipe", stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`scripts/guest/build.sh failed: ${build.stderr.toString()}`);
    guestDir = build.stdout.toString().trim().split("\n").at(-1)!;
    const image = readFileSync(join(guestDir, "disk.qcow2"));
    e = await startE2e({ roles: false });
    const controller = e.startRole("controller", [...e.controllerArgs(), "--insecure-registry", e.registry]);
    const handler = e.startRole("handler", e.handlerArgs());
    for (const p of [controller, handler]) await e.ready(p);
    // node:http keeps the Content-Length of a body written in pieces (the importer's percent needs it).
    server = createServer((req, res) => {
      if (req.url !== "/guest.qcow2") {
        res.writeHead(404).end("no");
        return;
      }
      gets++;
      res.writeHead(200, { "content-length": String(image.length) });
      const chunk = 64 * 1024;
      void (async () => {
        for (let at = 0; at < image.length && !res.destroyed; at += chunk) {
          res.write(image.subarray(at, at + chunk));
          await Bun.sleep(200);
        }
        res.end();
      })();
    });
    await new Promise<void>((resolve) => server!.listen(0, hostAddress, resolve));
    port = (server.address() as { port: number }).port;
  }, 900_000);

  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    await e?.stop();
    rmSync(pvDir, { recursive: true, force: true });
    rmSync(regDir, { recursive: true, force: true });
    rmSync(blankDir, { recursive: true, force: true });
  }, 300_000);

  test("the claim is imported by the importer pod under the kubelet, then the VM runs and boots from it", async () => {
    const c = e!;
    // One hostPath PV per claim, bound to it in advance (the node has no provisioner).
    for (const [dir, claim] of [[pvDir, "root-dv"], [regDir, "reg-dv"], [blankDir, "blank-dv"]] as const) {
      mkdirSync(dir, { recursive: true });
      await c.kubectlOk(["apply", "-f", "-"], {
        stdin: JSON.stringify({ apiVersion: "v1", kind: "PersistentVolume", metadata: { name: `${claim}-pv-${process.pid}` },
          spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], persistentVolumeReclaimPolicy: "Delete", storageClassName: "manual",
            claimRef: { namespace: "default", name: claim }, hostPath: { path: dir, type: "Directory" } } }),
      });
    }
    await c.kubectlOk(["apply", "-n", "default", "-f", "-"], {
      stdin: `apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: ${name}}
spec:
  runStrategy: Always
  dataVolumeTemplates:
  - metadata: {name: root-dv}
    spec:
      source: {http: {url: "http://${hostAddress}:${port}/guest.qcow2"}}
      storage: {storageClassName: manual, resources: {requests: {storage: 128Mi}}}
  - metadata: {name: reg-dv}
    spec:
      source: {registry: {url: "docker://${c.registry}/kubevirt/cirros-registry-disk-demo:devel"}}
      storage: {storageClassName: manual, resources: {requests: {storage: 128Mi}}}
  - metadata: {name: blank-dv}
    spec:
      source: {blank: {}}
      storage: {storageClassName: manual, resources: {requests: {storage: 64Mi}}}
  template:
    spec:
      terminationGracePeriodSeconds: 5
      domain:
        memory: {guest: 128Mi}
        devices: {disks: [{name: rootdisk, disk: {bus: virtio}}, {name: regdisk, disk: {bus: virtio}}, {name: blankdisk, disk: {bus: virtio}}]}
      volumes: [{name: rootdisk, dataVolume: {name: root-dv}}, {name: regdisk, dataVolume: {name: reg-dv}}, {name: blankdisk, dataVolume: {name: blank-dv}}]
`,
    });
    const why = async (): Promise<string> => `${await c.kubectl(["get", "vm,vmi,pvc,pod", "-n", "default", "-o", "wide"]).then((r) => r.stdout)}\n${await c.kubectl(["describe", "pod", "importer-root-dv", "-n", "default"]).then((r) => r.stdout)}\n${await c.logs()}`;
    // While it imports, the VM's DataVolumesReady condition carries the percent.
    const messages = new Set<string>();
    await until("the claim marked Succeeded", 300, async () => {
      const vm = await c.get("vm", name);
      const cond = ((vm?.status as { conditions?: { type: string; message?: string }[] } | undefined)?.conditions ?? []).find((x) => x.type === "DataVolumesReady");
      if (cond?.message !== undefined) messages.add(cond.message);
      const pvc = await c.get("pvc", "root-dv");
      return (pvc?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.["cdi.kubevirt.io/storage.pod.phase"] === "Succeeded" ? true : null;
    }, why);
    expect(gets).toBe(1);
    const percents = [...messages].flatMap((m) => /^DataVolume root-dv: import in progress, (\d+\.\d\d)%$/.exec(m)?.[1] ?? []).map(Number);
    expect(percents.some((p) => p > 0 && p < 100), `DataVolumesReady messages seen: ${[...messages].join(" | ")}`).toBe(true);
    // The qcow2 converted to raw and grown to the requested size, on the PV's directory.
    expect(statSync(join(pvDir, "disk.img")).size).toBe(128 * 2 ** 20);
    for (const claim of ["reg-dv", "blank-dv"]) {
      await until(`the claim ${claim} marked Succeeded`, 300, async () => {
        const pvc = await c.get("pvc", claim);
        return (pvc?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.["cdi.kubevirt.io/storage.pod.phase"] === "Succeeded" ? true : null;
      }, why);
    }
    // blank: a sparse raw file of the requested size.
    expect(statSync(join(blankDir, "disk.img")).size).toBe(64 * 2 ** 20);
    // The container disk's image, byte for byte, then zeros to the requested size.
    const pulled = readFileSync(join(regDir, "disk.img"));
    const guest = readFileSync(join(guestDir, "disk.img"));
    expect(pulled.length).toBe(128 * 2 ** 20);
    expect(Bun.hash(pulled.subarray(0, guest.length))).toBe(Bun.hash(guest));
    expect(pulled.subarray(guest.length).every((b) => b === 0)).toBe(true);
    for (const pod of ["importer-root-dv", "importer-reg-dv", "importer-blank-dv"]) await until(`the importer pod ${pod} deleted`, 120, async () => ((await c.get("pod", pod)) === null ? true : null), why);
    await until(`the VMI ${name} Running`, 300, async () => ((await c.get("vmi", name))?.status?.phase === "Running" ? true : null), why);
    const pod = JSON.parse(await c.kubectlOk(["get", "pods", "-n", "default", "-l", `kubevirt.io=virt-launcher,vm.kubevirt.io/name=${name}`, "-o", "json"])) as { items: { metadata: { name: string } }[] };
    const launcher = pod.items[0]!.metadata.name;
    const serial = await until("the guest booted from the imported disk", 300, async () => {
      const r = await c.kubectl(["exec", "-n", "default", launcher, "-c", "compute", "--", "cat", "/run/bunvirt/launcher/console/serial0.log"]);
      return r.stdout.includes("bunvirt-guest: ready") ? r.stdout : null;
    }, why);
    // The three claims as the guest sees them, in 512-byte sectors: 128 MiB, 128 MiB, 64 MiB.
    expect(serial).toContain("bunvirt-guest: disks vda=262144 vdb=262144 vdc=131072");
    const events = await c.kubectlOk(["get", "events", "-n", "default", "--field-selector", `involvedObject.name=${name}`, "-o", "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}"]);
    expect(events).toContain("ImportScheduled");
    expect(events).toContain("ImportSucceeded");
    const progressEvents = await c.kubectlOk(["get", "events", "-n", "default", "--field-selector", `involvedObject.name=${name},reason=ImportInProgress`, "-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}"]);
    expect(progressEvents).toMatch(/Import into root-dv in progress: \d+\.\d\d%/);
    await c.kubectlOk(["delete", "vm", name, "-n", "default", "--wait=true", "--timeout=180s"]);
  }, 900_000);
});
