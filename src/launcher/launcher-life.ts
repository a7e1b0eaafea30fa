/**
 * The launcher's life, the same for the launcher role (in a pod) and the
 * local run: check and make the state directory, serve the command API at
 * once while the stack starts (the handler pulls the VMI's disks meanwhile,
 * and a VMI synced then has its storage and network prepared while libvirtd
 * starts, see starting-manager.ts), and when the VM ends (or `stop` is asked,
 * e.g. on a signal) shut it down within its grace period and stop everything
 * it started. A stack that cannot start ends it: the runner is abandoned (a
 * sync in progress undoes what it prepared) and the start fails.
 */
import { commandApp, serveCommands } from "./command/command-server.ts";
import { startingManager } from "./command/starting-manager.ts";
import { startLauncher, type Launcher, type LauncherOptions } from "./vm-launcher.ts";
import { checkStateDir, makeStateDir, qemuAccount } from "./state-dir.ts";
import type { Outcome } from "./vm/outcome.ts";

export interface LifeOptions extends LauncherOptions {
  /** The command API's unix socket. */
  socket: string;
  /** Called with the launcher as soon as its runner takes a sync, before the stack is up (the local run syncs its VMI there). */
  onLauncher?: (launcher: Launcher) => void;
}

export interface LauncherLife {
  launcher: Launcher;
  /** How the VM ended, once the command API and the stack have stopped. */
  done: Promise<Outcome>;
  /**
   * Ends the VM (ACPI shutdown, destroyed when `grace` seconds are over;
   * at once before any sync), then everything. Safe to call again.
   */
  stop(why: string, grace?: number): void;
}

export async function startLauncherLife(opts: LifeOptions): Promise<LauncherLife> {
  checkStateDir(opts.stateDir, qemuAccount());
  makeStateDir(opts.stateDir);
  const launcher = startLauncher(opts);
  let commands: { stop(): Promise<void> };
  try {
    commands = serveCommands(commandApp(startingManager(launcher.runner, launcher.stack), undefined, opts.log), opts.socket);
  } catch (e) {
    await launcher.runner.abandon("the command API could not be served");
    await launcher.stop();
    throw e;
  }
  opts.onLauncher?.(launcher);
  try {
    await launcher.stack;
  } catch (e) {
    await launcher.runner.abandon((e as Error).message);
    await commands.stop().catch(() => undefined);
    throw e;
  }
  const done = launcher.runner.ended.then(async (outcome) => {
    await commands.stop().catch((e: unknown) => opts.log(`stopping the command API: ${(e as Error).message}`));
    await launcher.stop();
    return outcome;
  });
  let stopping = false;
  const stop = (why: string, grace?: number): void => {
    if (stopping) return;
    stopping = true;
    const seconds = grace ?? launcher.runner.graceSeconds;
    opts.log(`${why}: shutting the guest down (grace ${seconds} s)`);
    void launcher.runner.shutdown(seconds).catch((e: unknown) => opts.log(`shutdown: ${(e as Error).message}`));
  };
  return { launcher, done, stop };
}
