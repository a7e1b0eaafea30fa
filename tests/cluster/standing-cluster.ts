/**
 * Starts the end-to-end cluster and keeps it until SIGTERM or SIGINT, then
 * tears it down. Prints "kubeconfig PATH" once it is ready, so the
 * end-to-end suite can run against it as against any deployed cluster:
 *
 *   bun tests/cluster/standing-cluster.ts [--deployed] &   # as root, under the host lock
 *   BUNVIRT_E2E_KUBECONFIG=PATH bun test --timeout 900000 ./tests/cluster/e2e.test.ts
 *
 * Default: tests/lib/e2e-cluster.ts (the test node, the guest's registry, the
 * controller and the handler as processes). --deployed: tests/lib/e2e-deployed.ts
 * (bunvirt installed with `kubectl apply -k` and running as pods); it also
 * prints "ready-seconds N" (apply to every role Ready) and "rss POD MiB".
 */
import { startE2e } from "../lib/e2e-cluster.ts";
import { startDeployed } from "../lib/e2e-deployed.ts";

let stop: () => Promise<void>;
if (process.argv.includes("--deployed")) {
  const d = await startDeployed();
  stop = d.stop;
  console.log(`ready-seconds ${d.readySeconds.toFixed(1)}`);
  for (const [pod, mib] of Object.entries(await d.rss())) console.log(`rss ${pod} ${mib ?? "?"} MiB`);
  console.log(`kubeconfig ${d.kubeconfig}`);
} else {
  const e = await startE2e();
  stop = e.stop;
  console.log(`kubeconfig ${e.cluster.controlPlane.adminKubeconfig}`);
}
await new Promise<void>((resolve) => {
  process.once("SIGTERM", () => resolve());
  process.once("SIGINT", () => resolve());
});
await stop();
console.log("stopped");
