/**
 * A DataVolume imported in a cluster without CDI, under a real kubelet: a VM
 * whose root disk is a dataVolumeTemplate with an http source (the test
 * guest's qcow2, served by this process on the host end of the node's veth,
 * 10.250.0.1, which pods reach) gets its claim bound to a hostPath PV (the
 * node has no provisioner), the controller's importer pod runs `bunvirt
 * import` from the launcher image under the kubelet, the claim is marked
 * Succeeded, the pod deleted, and the VM boots from the imported disk.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../lib/bunvirt.ts";
import { clusterTier, hostAddress } from "../lib/cluster-node.ts";
import { type E2eCluster, startE2e, until } from "../lib/e2e-cluster.ts";

const skip = clusterTier("cluster DataVolume");
const pvDir = join(tmpdir(), `bunvirt-dv-pv-${process.pid}`);
const name = "dv-http";

describe.skipIf(skip !== null)("a DataVolume imported by bunvirt's importer pod", () => {
  let e: E2eCluster | undefined;
  let server: ReturnType<typeof Bun.serve> | undefined;
  let gets = 0;

  beforeAll(async () => {
    const build = Bun.spawnSync([join(repoRoot, "scripts/guest/build.sh")], { stdout: "pipe", stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`scripts/guest/build.sh failed: ${build.stderr.toString()}`);
    const image = readFileSync(join(build.stdout.toString().trim().split("\n").at(-1)!, "disk.qcow2"));
    e = await startE2e();
    server = Bun.serve({
      hostname: hostAddress,
      port: 0,
      fetch(req): Response {
        if (new URL(req.url).pathname !== "/guest.qcow2") return new Response("no", { status: 404 });
        gets++;
        return new Response(image);
      },
    });
  }, 900_000);

  afterAll(async () => {
    await server?.stop(true);
    await e?.stop();
    rmSync(pvDir, { recursive: true, force: true });
  }, 300_000);

  test("the claim is imported by the importer pod under the kubelet, then the VM runs and boots from it", async () => {
    const c = e!;
    mkdirSync(pvDir, { recursive: true });
    await c.kubectlOk(["apply", "-f", "-"], {
      stdin: JSON.stringify({ apiVersion: "v1", kind: "PersistentVolume", metadata: { name: `dv-pv-${process.pid}` },
        spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], persistentVolumeReclaimPolicy: "Delete", storageClassName: "manual", hostPath: { path: pvDir, type: "Directory" } } }),
    });
    await c.kubectlOk(["apply", "-n", "default", "-f", "-"], {
      stdin: `apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: ${name}}
spec:
  runStrategy: Always
  dataVolumeTemplates:
  - metadata: {name: root-dv}
    spec:
      source: {http: {url: "http://${hostAddress}:${server!.port}/guest.qcow2"}}
      storage: {storageClassName: manual, resources: {requests: {storage: 128Mi}}}
  template:
    spec:
      terminationGracePeriodSeconds: 5
      domain:
        memory: {guest: 128Mi}
        devices: {disks: [{name: rootdisk, disk: {bus: virtio}}]}
      volumes: [{name: rootdisk, dataVolume: {name: root-dv}}]
`,
    });
    const why = async (): Promise<string> => `${await c.kubectl(["get", "vm,vmi,pvc,pod", "-n", "default", "-o", "wide"]).then((r) => r.stdout)}\n${await c.kubectl(["describe", "pod", "importer-root-dv", "-n", "default"]).then((r) => r.stdout)}\n${await c.logs()}`;
    await until("the claim marked Succeeded", 300, async () => {
      const pvc = await c.get("pvc", "root-dv");
      return (pvc?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.["cdi.kubevirt.io/storage.pod.phase"] === "Succeeded" ? true : null;
    }, why);
    expect(gets).toBe(1);
    // The qcow2 converted to raw and grown to the requested size, on the PV's directory.
    expect(statSync(join(pvDir, "disk.img")).size).toBe(128 * 2 ** 20);
    await until("the importer pod deleted", 120, async () => ((await c.get("pod", "importer-root-dv")) === null ? true : null), why);
    await until(`the VMI ${name} Running`, 300, async () => ((await c.get("vmi", name))?.status?.phase === "Running" ? true : null), why);
    const pod = JSON.parse(await c.kubectlOk(["get", "pods", "-n", "default", "-l", `kubevirt.io=virt-launcher,vm.kubevirt.io/name=${name}`, "-o", "json"])) as { items: { metadata: { name: string } }[] };
    const launcher = pod.items[0]!.metadata.name;
    await until("the guest booted from the imported disk", 300, async () => {
      const r = await c.kubectl(["exec", "-n", "default", launcher, "-c", "compute", "--", "cat", "/run/bunvirt/launcher/console/serial0.log"]);
      return r.stdout.includes("bunvirt-guest: ready") ? true : null;
    }, why);
    const events = await c.kubectlOk(["get", "events", "-n", "default", "--field-selector", `involvedObject.name=${name}`, "-o", "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}"]);
    expect(events).toContain("ImportScheduled");
    expect(events).toContain("ImportSucceeded");
    await c.kubectlOk(["delete", "vm", name, "-n", "default", "--wait=true", "--timeout=180s"]);
  }, 900_000);
});
