/**
 * The launcher role (one pod per VM): starts the VM's private libvirt stack,
 * serves the command API on a unix socket for the handler, and exits when
 * the VM has ended (the exit code says how). Ready while the domain runs and
 * libvirt is healthy.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Launcher } from "../../launcher/launcher.ts";
import { backoffDelay, clusterBackoff } from "../../retry/backoff.ts";
import type { RoleMain } from "../role.ts";

export const launcherMain: RoleMain = async (ctx) => {
  const stateDir = typeof ctx.flags.stateDir === "string" ? ctx.flags.stateDir : "/var/run/bunvirt/launcher";
  const socket = typeof ctx.flags.commandSocket === "string" ? ctx.flags.commandSocket : join(stateDir, "launcher.sock");
  ctx.readiness.fail("domain", "no VirtualMachineInstance has been synced to this launcher");
  ctx.readiness.fail("libvirt", "starting");
  let launcher: Launcher | undefined;
  let commands: { stop(): Promise<void> } | undefined;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const start = async (attempt: number): Promise<void> => {
    if (stopped) return;
    try {
      mkdirSync(stateDir, { recursive: true, mode: 0o755 });
      const { startLauncher } = await import("../../launcher/launcher.ts");
      const l = await startLauncher({
        stateDir,
        emulation: ctx.flags.emulation === true,
        network: "pod",
        storage: { claims: {}, secrets: {}, registry: { cacheDir: join(stateDir, "container-disks") } },
        log: ctx.log,
      });
      launcher = l;
      ctx.readiness.pass("libvirt");
      l.stack.onHealthChange((h) => (h.ok ? ctx.readiness.pass("libvirt") : ctx.readiness.fail("libvirt", h.summary)));
      const { commandApp, serveCommands } = await import("../../launcher/command/server.ts");
      commands = serveCommands(commandApp(l.runner), socket);
      ctx.log(`command API on ${socket}`);
      const watch = setInterval(() => {
        void l.runner.status().then((s) => {
          if (s.state === "running") ctx.readiness.pass("domain");
          else if (s.state !== "absent") ctx.readiness.fail("domain", `${s.state}: ${s.reason}`);
        });
      }, 1000);
      void l.runner.ended.then(async (outcome) => {
        clearInterval(watch);
        ctx.readiness.fail("domain", outcome.detail);
        ctx.log(`the VM ended: ${outcome.detail}`);
        const { VmRunner } = await import("../../launcher/vm/runner.ts");
        ctx.exit(VmRunner.exitCode(outcome));
      });
    } catch (e) {
      ctx.readiness.fail("libvirt", (e as Error).message);
      ctx.log(`${(e as Error).message}; retrying with backoff`);
      timer = setTimeout(() => void start(attempt + 1), backoffDelay(attempt, clusterBackoff));
    }
  };
  void start(0);

  return async () => {
    stopped = true;
    clearTimeout(timer);
    if (launcher !== undefined) {
      // SIGTERM from the runtime: a graceful guest shutdown within its grace period.
      const s = await launcher.runner.status();
      if (s.state !== "absent") await launcher.runner.shutdown(launcher.runner.graceSeconds).catch(() => undefined);
      await commands?.stop();
      await launcher.stop();
    }
  };
};
