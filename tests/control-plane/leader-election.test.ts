/**
 * Leader election against a real kube-apiserver: a replica that stops while
 * an attempt is under way (the retry period short, so one nearly always is)
 * hands the Lease back every time (holder "", so a standby takes it at its
 * next try) and reports nothing after stop(). The deployed tier once saw the
 * stopping leader log "became the leader" and fail its release with a 409:
 * a renewal landed between stop() and release().
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KubeConfig } from "@kubernetes/client-node";
import { runLeaderElection } from "../../src/kube/leader-election.ts";
import { controlPlaneTier, type ControlPlane, startControlPlane } from "../lib/control-plane.ts";

const skip = controlPlaneTier("leader election");

describe.skipIf(skip !== null)("leader election on kube-apiserver", () => {
  let cp: ControlPlane;
  let kc: KubeConfig;

  beforeAll(async () => {
    cp = await startControlPlane();
    await cp.kubectlOk(["create", "namespace", "le"]);
    kc = new KubeConfig();
    kc.loadFromFile(cp.adminKubeconfig);
  }, 180_000);

  afterAll(async () => {
    await cp?.stop();
  });

  const holder = async (): Promise<string> =>
    (await cp.kubectlOk(["get", "lease", "l", "-n", "le", "-o", "jsonpath={.spec.holderIdentity}"])).trim();

  test("stopped at any moment, the leader hands the Lease back and reports nothing after stop()", async () => {
    for (let round = 0; round < 12; round++) {
      const changes: boolean[] = [];
      let stopped = false;
      let afterStop = 0;
      const e = runLeaderElection(kc, {
        namespace: "le", name: "l", identity: `r${round}`, leaseSeconds: 15, retrySeconds: 0.02,
        onChange: (leading) => {
          changes.push(leading);
          if (stopped) afterStop++;
        },
      });
      const deadline = Date.now() + 20_000;
      while (!changes.includes(true) && Date.now() < deadline) await Bun.sleep(5);
      expect(changes).toContain(true);
      // Stop a little later each round, to land inside a renewal at different points.
      await Bun.sleep(3 + round * 7);
      e.stop();
      stopped = true;
      await e.release();
      expect(await holder()).toBe("");
      expect(afterStop).toBe(0);
    }
  }, 120_000);
});
