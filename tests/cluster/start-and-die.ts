/**
 * Helper process for node-crash.test.ts: starts a cluster, runs a pod on the
 * node, prints what it started as one JSON line, then exits without calling
 * stop(), as a test runner that crashed would.
 */
import { nodeImages } from "../lib/cluster-images.ts";
import { startCluster } from "../lib/cluster-node.ts";

const images = await nodeImages();
const c = await startCluster({ images: [images.pause, images.busybox] });
const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "sleeper", namespace: "default" },
  spec: {
    automountServiceAccountToken: false,
    containers: [{ name: "main", image: "bunvirt.local/busybox:1.35", imagePullPolicy: "Never", command: ["sleep", "3600"] }],
  },
};
await c.controlPlane.kubectlOk(["apply", "-f", "-"], { stdin: JSON.stringify(pod) });
await c.controlPlane.kubectlOk(["wait", "pod/sleeper", "--for=condition=Ready", "--timeout=120s"]);
console.log(JSON.stringify({ controlPlanePids: c.controlPlane.pids, controlPlaneDir: c.controlPlane.dir, dir: c.node.dir, mnt: c.node.namespaces.mnt, holderPid: c.node.holderPid }));
process.exit(3);
