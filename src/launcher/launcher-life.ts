/**
 * The launcher's life, the same for the launcher role (in a pod) and the
 * local run: check and make the state directory, serve the command API at
 * once (the handler pulls the VMI's disks while the stack starts, see
 * starting-manager.ts), start the stack, and when the VM ends (or `stop` is
 * asked, e.g. on a signal) shut it down within its grace period and stop
 * everything it started.
 */
import { commandApp, serveCommands } from "./command/command-server.ts";
import { startingManager } from "./command/starting-manager.ts";
import { startLauncher, type Launcher, type LauncherOptions } from "./vm-launcher.ts";
import { checkStateDir, makeStateDir, qemuAccount } from "./state-dir.ts";
import type { Outcome } from "./vm/outcome.ts";

export interface LifeOptions extends LauncherOptions {
  /** The command API's unix socket. */
  socket: string;
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
  const starting = startLauncher(opts);
  let commands: { stop(): Promise<void> };
  try {
    commands = serveCommands(commandApp(startingManager(starting.then((l) => l.runner)), undefined, opts.log), opts.socket);
  } catch (e) {
    await starting.then((l) => l.stop(), () => undefined);
    throw e;
  }
  let launcher: Launcher;
  try {
    launcher = await starting;
  } catch (e) {
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
