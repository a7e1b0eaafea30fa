/**
 * The control-plane harness itself: with kube-scheduler, a pod on a cluster
 * without nodes is judged Unschedulable (so the scheduler runs and is
 * authorized); `stop()` leaves no process and no directory behind.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { controlPlaneTier, startControlPlane, type ControlPlane } from "../lib/control-plane.ts";

const skip = controlPlaneTier("control-plane harness");

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(skip !== null)("control-plane harness", () => {
  let cp: ControlPlane | undefined;
  beforeAll(async () => {
    cp = await startControlPlane({ scheduler: true });
  }, 180_000);
  afterAll(async () => cp?.stop());

  test("kube-scheduler judges a pod on a cluster without nodes Unschedulable", async () => {
    const c = cp!;
    // No kube-controller-manager: the namespace's default ServiceAccount is made by hand.
    await c.kubectlOk(["create", "serviceaccount", "default", "-n", "default"]);
    await c.kubectlOk(["run", "probe", "-n", "default", "--image=registry.k8s.io/pause:3.10.1", "--restart=Never"]);
    await c.kubectlOk(["wait", "pod/probe", "-n", "default", "--for=jsonpath={.status.conditions[0].reason}=Unschedulable", "--timeout=60s"]);
    const pod = JSON.parse(await c.kubectlOk(["get", "pod", "probe", "-n", "default", "-o", "json"])) as {
      status: { phase: string; conditions: { type: string; status: string; message?: string }[] };
    };
    expect(pod.status.phase).toBe("Pending");
    const scheduled = pod.status.conditions.find((x) => x.type === "PodScheduled");
    expect(scheduled?.status).toBe("False");
    expect(scheduled?.message).toContain("no nodes available");
  });

  test("stop() kills every process and removes the directory", async () => {
    const c = cp!;
    expect(c.pids).toHaveLength(3);
    expect(c.pids.every(alive)).toBe(true);
    expect(existsSync(c.dir)).toBe(true);
    await c.stop();
    cp = undefined;
    expect(c.pids.filter(alive)).toEqual([]);
    expect(existsSync(c.dir)).toBe(false);
  });
});
