/**
 * A test runner that dies without stopping its node leaves no node behind:
 * the namespace holder sees EOF on its stdin, ends containerd, the kubelet,
 * the shims and the containers, removes the kubepods cgroups, and the
 * namespaces and the veth pair go with it. (The control plane's etcd and
 * kube-apiserver are plain host processes; this test stops them itself.)
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../lib/bunvirt.ts";
import { clusterTier, hostLink, kubepodsCgroups, processesIn } from "../lib/cluster-node.ts";
import { kill } from "../lib/node-leftovers.ts";

const skip = clusterTier("cluster node crash");

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

describe.skipIf(skip !== null)("cluster node crash", () => {
  test("a runner that exits without stop() leaves no node process, cgroup, mount or link", async () => {
    const p = Bun.spawn([process.execPath, join(repoRoot, "tests/cluster/start-and-die.ts")], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect({ code, stderr: code === 3 ? "" : stderr }).toEqual({ code: 3, stderr: "" });
    const started = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { controlPlanePids: number[]; controlPlaneDir: string; dir: string; mnt: string; holderPid: number };
    try {
      // The holder ends what is left within 10 s of EOF; give it up to 30 s.
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && (alive(started.holderPid) || kubepodsCgroups().length > 0)) await Bun.sleep(250);
      expect(alive(started.holderPid)).toBe(false);
      expect(processesIn(started.mnt)).toEqual([]);
      expect(kubepodsCgroups()).toEqual([]);
      const links = (JSON.parse(await new Response(Bun.spawn(["ip", "-j", "link", "show"]).stdout).text()) as { ifname: string }[]).map((l) => l.ifname);
      expect(links).not.toContain(hostLink);
      const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(started.dir));
      expect(mounts).toEqual([]);
      const mentioning = readdirSync("/proc")
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            return readFileSync(`/proc/${d}/cmdline`, "utf8").includes(started.dir);
          } catch {
            return false;
          }
        });
      expect(mentioning).toEqual([]);
    } finally {
      for (const pid of (started.controlPlanePids ?? []).toReversed()) kill(pid);
      if (started.controlPlaneDir) rmSync(started.controlPlaneDir, { recursive: true, force: true });
      if (started.dir) rmSync(started.dir, { recursive: true, force: true });
    }
  }, 300_000);
});
