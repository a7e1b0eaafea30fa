/**
 * Starts the end-to-end cluster (tests/lib/e2e-cluster.ts: the test node, the
 * guest's registry, the controller and the handler as processes) and keeps it
 * until SIGTERM or SIGINT, then tears it down. Prints "kubeconfig PATH" once
 * it is ready, so the end-to-end suite can run against it as against any
 * deployed cluster:
 *
 *   bun tests/cluster/standing-cluster.ts &   # as root, under the host lock
 *   BUNVIRT_E2E_KUBECONFIG=PATH bun test --timeout 900000 ./tests/cluster/e2e.test.ts
 */
import { startE2e } from "../lib/e2e-cluster.ts";

const e = await startE2e();
console.log(`kubeconfig ${e.cluster.controlPlane.adminKubeconfig}`);
await new Promise<void>((resolve) => {
  process.once("SIGTERM", () => resolve());
  process.once("SIGINT", () => resolve());
});
await e.stop();
console.log("stopped");
