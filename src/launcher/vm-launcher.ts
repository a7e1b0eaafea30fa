/**
 * The launcher: one VM's private libvirt stack, its storage and network,
 * and the runner that sequences them. The launcher role (in a pod) and the
 * local run (`bunvirt run`) both start it; they differ only in where the VMI
 * comes from and where the pod's volumes are.
 *
 * The runner is there at once and the stack starts beside it: a VMI synced
 * while libvirtd starts has its storage and network prepared meanwhile, and
 * only its domain waits for the stack.
 */
import { allowedCpus } from "./cpu-affinity.ts";
import { chownSync } from "node:fs";
import { join, resolve } from "node:path";
import type { VmiSpec } from "../api/v1/vmi.ts";
import type { VmiIdentity } from "../domain/index.ts";
import { setupNetworking, vmiAddresses } from "../network/index.ts";
import { prepareKernelBoot, prepareVolumes, type VolumeContext } from "../storage/index.ts";
import { libvirtPort } from "./libvirt-port.ts";
import { startLibvirtStack, type LibvirtStack, type StackLayout } from "./libvirt/index.ts";
import { stackPaths } from "./libvirt/paths.ts";
import { assertUnder } from "../paths/index.ts";
import { checkFirmwareFiles } from "./firmware-files.ts";
import { launcherDirs } from "./launcher-dirs.ts";
import { boundLogs, logsIn } from "./log-bound.ts";
import { qemuUser } from "./qemu-user.ts";
import { makeStateDir } from "./state-dir.ts";
import { VmRunner } from "./vm/runner.ts";
import type { PreparedNetwork, PreparedStorage } from "./vm/ports.ts";

export interface LauncherOptions {
  /** The VM's private state: libvirt's runtime dirs, disks made for it, the console socket. */
  stateDir: string;
  /** TCG instead of KVM: a setting (KubeVirt's useEmulation), never a guess. */
  emulation: boolean;
  /** Where libvirt's system paths come from (see StackLayout); default "namespace", the local run's. */
  libvirtLayout?: StackLayout;
  /** Where the pod's claims, Secrets, host-disk directories and the registry are (see VolumeContext). */
  storage: Pick<VolumeContext, "claims" | "secrets" | "registry" | "hostDiskRoots">;
  /** "pod": bind the VM to this network namespace's pod interface; "none": no NICs. */
  network: "pod" | "none";
  podInterface?: string;
  resolvConf?: string;
  log: (line: string) => void;
}

export interface Launcher {
  runner: VmRunner;
  /** The private libvirt stack once it has started (rejected when it cannot start). */
  stack: Promise<LibvirtStack>;
  consoleSocket: string;
  consoleLog: string;
  /** Stops the libvirt stack (after the VM has ended), once its start has finished. */
  stop(): Promise<void>;
}

export { launcherDirs };

/** Makes a directory below the state directory (0755, for QEMU), refusing one that is a symlink or leads out. */
function makeBelow(stateDir: string, dir: string): void {
  assertUnder(stateDir, dir);
  makeStateDir(dir);
}

/** The storage context for a VMI, as the launcher prepares its volumes. */
export function volumeContext(opts: Pick<LauncherOptions, "stateDir" | "storage" | "log">, spec: VmiSpec, vmi: VmiIdentity): VolumeContext {
  const dir = launcherDirs(opts.stateDir).volumes;
  makeBelow(opts.stateDir, dir);
  return { ...opts.storage, stateDir: dir, vmi: { ...vmi, ...(spec.hostname !== undefined ? { hostname: spec.hostname } : {}) }, log: storageLog(opts.log) };
}

/** Prepares a VMI's volumes and kernelBoot files; on failure undoes what it did. */
export async function prepareVmStorage(opts: Pick<LauncherOptions, "stateDir" | "storage" | "log">, spec: VmiSpec, vmi: VmiIdentity): Promise<PreparedStorage> {
  const ctx = volumeContext(opts, spec, vmi);
  const done = await prepareVolumes(spec, ctx);
  const kernel = await prepareKernelBoot(spec, ctx).catch(async (e: unknown) => {
    await done.cleanup();
    throw e;
  });
  return {
    prepared: done.prepared,
    ...(kernel !== null ? { kernelBoot: { kernel: kernel.kernel, ...(kernel.initrd !== undefined ? { initrd: kernel.initrd } : {}) } } : {}),
    cleanup: async () => {
      await kernel?.cleanup();
      await done.cleanup();
    },
  };
}

export function startLauncher(opts: LauncherOptions): Launcher {
  const dirs = launcherDirs(opts.stateDir);
  for (const d of Object.values(dirs)) makeBelow(opts.stateDir, d);
  // QEMU (as libvirt-qemu) creates the console socket here.
  const qemu = qemuUser();
  chownSync(dirs.console, qemu.uid, qemu.gid);

  // The launcher owns its process tree: it waits for its orphans (QEMU) itself (orphan-reaper.ts).
  const stack = startLibvirtStack({ stateDir: dirs.libvirt, emulation: opts.emulation, layout: opts.libvirtLayout ?? "namespace", reapOrphans: true, log: (l) => opts.log(l) });
  // Its failure is reported to those who wait for it (the runner's define, the launcher's life).
  stack.catch(() => undefined);
  const consoleSocket = join(dirs.console, "serial0");
  const consoleLog = join(dirs.console, "serial0.log");
  // No virtlogd caps them: the serial log and the domains' QEMU logs are bounded here.
  const logs = boundLogs(() => [consoleLog, ...logsIn(join(stackPaths(resolve(dirs.libvirt)).log, "qemu"))], { log: (l) => opts.log(l) });

  const prepareStorage = async (spec: VmiSpec, vmi: VmiIdentity): Promise<PreparedStorage> => {
    checkFirmwareFiles(spec);
    return prepareVmStorage(opts, spec, vmi);
  };

  const setupNetwork = async (spec: VmiSpec, vmi: VmiIdentity): Promise<PreparedNetwork> => {
    if (opts.network === "none") {
      if ((spec.domain.devices.interfaces ?? []).length > 0) throw new Error("Cannot run without a network: the VMI declares interfaces");
      return { interfaces: {}, teardown: async () => undefined };
    }
    const n = await setupNetworking(spec, {
      stateDir: dirs.network,
      hostname: spec.hostname ?? vmi.name,
      vmiKey: `${vmi.namespace}/${vmi.name}`,
      ...(opts.podInterface !== undefined ? { podInterface: opts.podInterface } : {}),
      ...(opts.resolvConf !== undefined ? { resolvConf: opts.resolvConf } : {}),
      log: (l) => opts.log(`network: ${l}`),
    });
    const interfaces: PreparedNetwork["interfaces"] = {};
    for (const [name, r] of Object.entries(n.interfaces)) {
      interfaces[name] = { tap: r.tap, mac: r.mac, mtu: r.mtu, ipAddresses: vmiAddresses(r), podInterface: r.podInterface };
    }
    return { interfaces, teardown: () => n.teardown() };
  };

  const runner = new VmRunner(
    { libvirt: libvirtPort(stack), prepareStorage, setupNetwork },
    { emulation: opts.emulation, serialSocket: consoleSocket, serialLog: consoleLog, cpus: allowedCpus() },
    opts.log,
  );
  return {
    runner,
    stack,
    consoleSocket,
    consoleLog,
    stop: async () => {
      logs.stop();
      await stack.then((st) => st.stop(), () => undefined);
    },
  };
}

function storageLog(log: (line: string) => void): VolumeContext["log"] {
  const line = (level: string, message: string, fields?: Readonly<Record<string, string | number | boolean>>): void =>
    log(`storage: ${level}${message}${fields === undefined ? "" : " " + Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  return { info: (m, f) => line("", m, f), warn: (m, f) => line("warning: ", m, f) };
}
