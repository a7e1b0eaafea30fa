/**
 * The launcher role (one pod per VM): the launcher's life (see
 * launcher-life.ts) with readiness for the handler, and the exit code of how
 * the VM ended. Ready while the domain runs and libvirt is healthy.
 */
import { join } from "node:path";
import type { LauncherLife } from "../../launcher/launcher-life.ts";
import { retryUntil } from "../../retry/retry-until.ts";
import type { RoleMain } from "../role.ts";
import { launcherPaths } from "../controller/launcher-pod.ts";
import { hostDisksMountRoot } from "../controller/host-disk-mounts.ts";
import { podHostDiskRoots, podMounts } from "./pod-mounts.ts";

export const launcherMain: RoleMain = async (ctx) => {
  const stateDir = typeof ctx.flags.stateDir === "string" ? ctx.flags.stateDir : "/var/run/bunvirt/launcher";
  const layout = ctx.flags.libvirtLayout ?? "namespace";
  if (layout !== "namespace" && layout !== "pod") throw new Error(`Cannot start the launcher: --libvirt-layout must be "namespace" or "pod", not "${String(layout)}"`);
  const socket = typeof ctx.flags.commandSocket === "string" ? ctx.flags.commandSocket : join(stateDir, "launcher.sock");
  ctx.readiness.fail("domain", "no VirtualMachineInstance has been synced to this launcher");
  ctx.readiness.fail("libvirt", "starting");
  let life: LauncherLife | undefined;
  const starting = retryUntil(
    async () => {
      const { startLauncherLife } = await import("../../launcher/launcher-life.ts");
      const l = await startLauncherLife({
        stateDir,
        socket,
        emulation: ctx.flags.emulation === true,
        libvirtLayout: layout,
        network: "pod",
        // The claims and Secrets the controller mounted into this pod.
        storage: { ...podMounts(launcherPaths), hostDiskRoots: podHostDiskRoots(hostDisksMountRoot), registry: { cacheDir: join(stateDir, "container-disks") } },
        log: ctx.log,
      });
      life = l;
      ctx.readiness.pass("libvirt");
      (await l.launcher.stack).onHealthChange((h) => (h.ok ? ctx.readiness.pass("libvirt") : ctx.readiness.fail("libvirt", h.summary)));
      ctx.log(`command API on ${socket}`);
      const watch = setInterval(() => {
        void l.launcher.runner.status().then((s) => {
          if (s.state === "running") ctx.readiness.pass("domain");
          else if (s.state !== "absent") ctx.readiness.fail("domain", `${s.state}: ${s.reason}`);
        });
      }, 1000);
      void l.done.then(async (outcome) => {
        clearInterval(watch);
        ctx.readiness.fail("domain", outcome.detail);
        ctx.log(`the VM ended: ${outcome.detail}`);
        const { VmRunner } = await import("../../launcher/vm/runner.ts");
        ctx.exit(VmRunner.exitCode(outcome));
      });
    },
    (e) => {
      ctx.readiness.fail("libvirt", e.message);
      ctx.log.warn(`${e.message}; retrying with backoff`);
    },
  );

  return async () => {
    starting.stop();
    if (life !== undefined) {
      // SIGTERM from the runtime: a graceful guest shutdown within its grace period.
      life.stop("stopping");
      await life.done;
    }
  };
};
