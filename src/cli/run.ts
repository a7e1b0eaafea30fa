/**
 * `bunvirt run FILE...`: the local debug run. The same launcher as in a pod,
 * with a local state directory instead of pod volumes, a network namespace
 * standing in for the pod's, and the serial console on the terminal.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { VirtualMachineInstance } from "../api/v1/vmi.ts";
import { vmiOf } from "../domain/index.ts";
import { attachConsole, type ConsoleSink } from "../local/console.ts";
import { createPodNetns, type PodNetns } from "../local/pod-netns.ts";
import { selfCommand } from "../local/self.ts";
import { VmRunner } from "../launcher/vm/runner.ts";
import { prepareVmStorage, type Launcher, type LauncherOptions } from "../launcher/vm-launcher.ts";
import { checkStateDir, makeStateDir, qemuAccount } from "../launcher/state-dir.ts";
import { pathUnder, removeUnder } from "../paths/index.ts";
import type { VmiSpec } from "../api/v1/vmi.ts";
import type { VmiIdentity } from "../domain/index.ts";
import { parseClaimFlag, parseRegistryLimits, parseSecretFlag, defaultCacheDir } from "./volumes.ts";
import { hostDiskRootsFlag } from "./host-disk-dir-flag.ts";
import { oneVm } from "./input-set.ts";
import { dataVolumeTemplatesOf, defaultClaimsDir, importRunDataVolumes } from "./run-data-volumes.ts";
import { UsageError, usageFlag } from "./usage.ts";
import type { RegistrySettings } from "../storage/provider.ts";
import { makeLogger, parseLogFormat, parseLogLevel, type Logger } from "../log/logger.ts";
import { launcherRuntimeEnv } from "../launcher/runtime-env.ts";
import { spawnOwn } from "../process/own-children.ts";

/** Where `bunvirt run` keeps a VM's state when no --state-dir is given: NAMESPACE_NAME below it. */
export const runRoot = "/var/lib/bunvirt/run";

export const runUsage = `Usage: bunvirt run FILE... [options]
  Boots a VirtualMachine, VirtualMachineInstance or v1alpha1 VM manifest locally. A VM's
  instancetype and preference are read from the other documents or files given.

Options:
  --state-dir DIR             the VM's local state (default /var/lib/bunvirt/run/NAME)
  --netns NAME                run inside this network namespace (standing in for the pod's; its eth0 is the pod interface)
  --network none              no network at all (default: a namespace made for this run, removed at the end)
  --emulation                 TCG instead of KVM (KubeVirt's useEmulation)
  --secret NAME=DIR           a Secret for cloud-init, as a directory of files (repeatable)
  --claim NAME=PATH[:SIZE]    where a PersistentVolumeClaim is (repeatable); a DataVolume's claim has the DataVolume's name
  --claims-dir DIR            where a VM's dataVolumeTemplates are imported when no --claim names them:
                              DIR/NAMESPACE/NAME/disk.img (default ${defaultClaimsDir}); kept after the run, like
                              KubeVirt's PVC, so the next run boots what the VM wrote (remove the directory to import again)
  --host-disk-dir DIR         allow hostDisk volumes below DIR (repeatable; none by default: hostDisk refused)
  --registry HOST[:PORT]      registry for images named without a host
  --insecure-registry HOST    plain HTTP to this registry (repeatable)
  --cache-dir DIR             node disk cache (default ${defaultCacheDir})
  --registry-timeout SECONDS  a registry request (or a DataVolume's http download) fails when nothing arrives for this long (default 30)
  --max-disk-size SIZE        largest uncompressed disk taken from an image, e.g. 100Gi (default 64Gi)
  --console terminal|off|log  where the serial console goes (default terminal)
  --console-log FILE          the file for --console log
  --grace SECONDS             grace period for Ctrl-C/SIGTERM (default: the VM's terminationGracePeriodSeconds, else 30)
  --log-format text|json      bunvirt's own lines as text (default) or one JSON object per line
  --log-level LEVEL           debug, info (default), warn or error
Ctrl-C shuts the guest down gracefully (ACPI), then destroys it when the grace period ends.
Exit code: 0 the guest powered off, 1 failure, 2 destroyed, 3 crashed.
`;

const options = {
  "state-dir": { type: "string" },
  netns: { type: "string" },
  network: { type: "string" },
  emulation: { type: "boolean" },
  secret: { type: "string", multiple: true },
  claim: { type: "string", multiple: true },
  "claims-dir": { type: "string" },
  "host-disk-dir": { type: "string", multiple: true },
  registry: { type: "string" },
  "insecure-registry": { type: "string", multiple: true },
  "cache-dir": { type: "string" },
  "registry-timeout": { type: "string" },
  "max-disk-size": { type: "string" },
  console: { type: "string" },
  "console-log": { type: "string" },
  grace: { type: "string" },
  "log-format": { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
  // Set by the outer process when it re-runs itself inside the namespace it made.
  "inside-netns": { type: "boolean" },
} as const;

export async function runCommand(args: string[], write: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
  const format = usageFlag(() => parseLogFormat(values["log-format"]));
  const log = makeLogger({ role: "run", format, level: usageFlag(() => parseLogLevel(values["log-level"])), write, stampText: false });
  if (values.help) {
    process.stdout.write(runUsage);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("run needs a FILE");
  if (values.network !== undefined && values.network !== "none" && values.network !== "pod") throw new UsageError(`--network must be "none" or "pod", not "${values.network}"`);
  if (values.network === "none" && values.netns !== undefined) throw new UsageError("--network none and --netns exclude each other");
  const sink = consoleSink(values.console, values["console-log"]);
  if (values.grace !== undefined && !/^\d+$/.test(values.grace)) throw new UsageError(`--grace must be a whole number of seconds, not "${values.grace}"`);

  const found = await oneVm(positionals, "run");
  if ("errors" in found) {
    for (const line of found.errors) log.error(line);
    return 1;
  }
  const { identity, spec } = vmiOf(found.valid);
  log.about({ kind: "VirtualMachineInstance", ...identity });
  const none = values.network === "none";
  if (none && (spec.domain.devices.interfaces ?? []).length > 0) throw new UsageError("--network none: the VM declares interfaces; remove them or give it a network");

  // The default state directory is built from the (admitted) names and proved to stay under the run root;
  // a given one is checked (not a symlink, reachable by QEMU) before anything is written or pulled.
  const ownDir = values["state-dir"] === undefined;
  const stateDir = ownDir ? pathUnder(runRoot, `${identity.namespace}_${identity.name}`) : resolve(values["state-dir"]!);
  checkStateDir(stateDir, qemuAccount());
  const storage: { claims: NonNullable<LauncherOptions["storage"]>["claims"]; secrets: Record<string, string>; hostDiskRoots: NonNullable<LauncherOptions["storage"]>["hostDiskRoots"]; registry: RegistrySettings } = {
    claims: Object.fromEntries((values.claim ?? []).map((c) => { const x = parseClaimFlag(c); return [x.name, x.mount]; })),
    secrets: Object.fromEntries((values.secret ?? []).map((s) => { const x = parseSecretFlag(s); return [x.name, x.dir]; })),
    hostDiskRoots: hostDiskRootsFlag(values["host-disk-dir"]),
    registry: {
      cacheDir: values["cache-dir"] ?? defaultCacheDir,
      ...(values.registry !== undefined ? { defaultRegistry: values.registry } : {}),
      insecureRegistries: values["insecure-registry"] ?? [],
      ...parseRegistryLimits(values),
    },
  };
  const inside = values["inside-netns"] === true;

  // DataVolumes first, from here (outside the pod's namespace: a server on this host's 127.0.0.1 is
  // reachable); the run inside it finds them imported. Their claims join the run's mounts.
  const templates = dataVolumeTemplatesOf(found.valid);
  if (templates.length > 0) {
    const abort = new AbortController();
    const onSignal = (sig: NodeJS.Signals): void => {
      log(`run: ${sig}: stopping the import`);
      abort.abort(new Error(`stopped by ${sig}`));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      storage.claims = await importRunDataVolumes({
        templates,
        namespace: identity.namespace,
        claims: storage.claims,
        claimsDir: resolve(values["claims-dir"] ?? defaultClaimsDir),
        secrets: storage.secrets,
        registry: { ...storage.registry, signal: abort.signal },
        signal: abort.signal,
        log,
      });
    } catch (e) {
      log.error(`run: ${(e as Error).message}`);
      return 1;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }
  // What this run made is removed on every way out; the default state directory whole (it is the tool's own).
  const removeOwnDir = async (): Promise<void> => {
    if (!ownDir || inside) return;
    await removeUnder(runRoot, stateDir).catch((e: unknown) => log(`run: removing "${stateDir}": ${(e as Error).message}`));
  };

  // Outside the pod's namespace: pull container disks from here (a registry on this
  // host's 127.0.0.1 is not reachable from inside), then run again inside it, where
  // preparing them again finds them ready.
  if (!inside && (values.netns !== undefined || !none)) {
    let staged: { cleanup(): Promise<void> } | null = null;
    // Ctrl-C or SIGTERM while pulling: abort the pull; the finally below removes what was made.
    const abort = new AbortController();
    const onStagingSignal = (sig: NodeJS.Signals): void => {
      log(`run: ${sig}: stopping the pull`);
      abort.abort(new Error(`stopped by ${sig}`));
    };
    process.on("SIGINT", onStagingSignal);
    process.on("SIGTERM", onStagingSignal);
    try {
      makeStateDir(stateDir);
      try {
        staged = await stageContainerDisks({ stateDir, storage: { ...storage, registry: { ...storage.registry, signal: abort.signal } }, log }, spec, identity);
      } finally {
        process.off("SIGINT", onStagingSignal);
        process.off("SIGTERM", onStagingSignal);
      }
      if (abort.signal.aborted) return 1;
      const pod = values.netns === undefined ? await createPodNetns(identity.name) : null;
      if (pod !== null) log(`run: network namespace "${pod.name}" stands in for the pod; pod IP ${pod.podIp} (reachable from here), gateway ${pod.hostIp}`);
      return await reRunInside(pod?.name ?? values.netns!, [...args, "--inside-netns"], log, pod);
    } finally {
      await staged?.cleanup().catch((e: unknown) => log(`run: ${(e as Error).message}`)); // whatever the inner run did not remove
      await removeOwnDir();
    }
  }

  try {
    return await runHere({ stateDir, storage, identity, spec, none, emulation: values.emulation === true, grace: values.grace, inside, sink, log });
  } finally {
    await removeOwnDir();
  }
}

interface Here {
  stateDir: string;
  storage: LauncherOptions["storage"];
  identity: VmiIdentity;
  spec: VmiSpec;
  none: boolean;
  emulation: boolean;
  /** --grace, when given. */
  grace: string | undefined;
  /** Inside the namespace the outer run made. */
  inside: boolean;
  sink: ConsoleSink;
  log: Logger;
}

/** Runs the launcher in this process: its life (see launcher-life.ts), the VMI synced to it, the console on the terminal. */
async function runHere(h: Here): Promise<number> {
  const { stateDir, storage, identity, spec, none, inside, sink, log } = h;
  const vmi: VirtualMachineInstance = {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: { name: identity.name, namespace: identity.namespace, ...(identity.uid !== undefined ? { uid: identity.uid } : {}) },
    spec: none ? { ...spec, domain: { ...spec.domain, devices: { ...spec.domain.devices, autoattachPodInterface: false } } } : spec,
  };
  const { startLauncherLife } = await import("../launcher/launcher-life.ts");
  // The daemons' own lines go to a file in the state dir; the terminal gets bunvirt's.
  const daemonLog = resolve(stateDir, "daemons.log");
  const launcherLog = (line: string): void => {
    if (/^(libvirtd|virtlogd|virtqemud|dbus-daemon|libvirt-dbus)\[/.test(line)) appendFileSync(daemonLog, line + "\n");
    else log(line);
  };
  const started = Date.now();
  let ending = false;
  // The VMI is synced and the console attached as soon as the runner takes them: storage and
  // network are prepared while libvirtd starts, and the console waits for QEMU's socket.
  let syncing: Promise<unknown> | undefined;
  let consoleReady: ReturnType<typeof attachConsole> | Promise<null> = Promise.resolve(null);
  const onLauncher = (launcher: Launcher): void => {
    syncing = launcher.runner.sync(vmi);
    syncing.catch(() => undefined);
    consoleReady = attachConsole(launcher.consoleSocket, sink, { stdin: process.stdin.isTTY === true, timeoutMs: 120_000 }).catch((e: unknown) => {
      if (!ending) log(`run: console: ${(e as Error).message}`);
      return null;
    });
  };
  let life;
  try {
    // The launcher's command API, as a handler would reach it (status, shutdown, kill).
    life = await startLauncherLife({ stateDir, socket: resolve(stateDir, "launcher.sock"), emulation: h.emulation, network: none ? "none" : "pod", storage, log: launcherLog, onLauncher });
  } catch (e) {
    ending = true;
    log.error(`run: ${(e as Error).message}`);
    return 1;
  }
  const { launcher } = life;
  const l = life;
  // After a sync the runner knows the VM's terminationGracePeriodSeconds.
  const grace = (): number | undefined => (h.grace !== undefined ? Number(h.grace) : undefined);
  const onSignal = (why: string): void => {
    ending = true;
    l.stop(`run: ${why}`, grace());
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  // Inside the namespace the outer run is our parent: if it dies (even by SIGKILL),
  // nobody would stop this VM, so its disappearance counts as SIGTERM.
  const parentWatch = inside ? watchParent(() => onSignal("the outer bunvirt run is gone")) : null;
  let failed = false;
  try {
    await (syncing ?? launcher.runner.sync(vmi));
    log(`run: domain running ${((Date.now() - started) / 1000).toFixed(2)} s after start`);
    const console = await consoleReady;
    await launcher.runner.ended;
    console?.close();
  } catch (e) {
    log.error(`run: ${(e as Error).message}`);
    failed = true;
    ending = true;
    // A failed start has ended the runner already; anything else still running is stopped.
    const s = await launcher.runner.status().catch(() => null);
    if (s === null || s.state !== "shutoff") l.stop("run: cannot go on");
  }
  // The VM has ended (or never started): the life has stopped the command API and the stack.
  const outcome = await l.done;
  if (parentWatch !== null) clearInterval(parentWatch);
  if (!failed) log(`run: the VM ended: ${outcome.detail}`);
  return failed ? 1 : VmRunner.exitCode(outcome);
}

/** Prepares the container disks and kernelBoot files of a spec (pull + overlay/copy) so that a later prepare finds them ready. */
async function stageContainerDisks(
  opts: Pick<LauncherOptions, "stateDir" | "storage" | "log">,
  spec: VmiSpec,
  vmi: VmiIdentity,
): Promise<{ cleanup(): Promise<void> }> {
  const volumes = (spec.volumes ?? []).filter((v) => v.containerDisk !== undefined);
  const names = new Set(volumes.map((v) => v.name));
  const only: VmiSpec = { ...spec, volumes, domain: { ...spec.domain, devices: { ...spec.domain.devices, disks: (spec.domain.devices.disks ?? []).filter((d) => names.has(d.name)) } } };
  return prepareVmStorage(opts, only, vmi);
}

/** Calls `gone` once when this process's parent changes (it died and we were re-parented). */
function watchParent(gone: () => void): ReturnType<typeof setInterval> {
  const ppid = (): number => Number(readFileSync("/proc/self/stat", "utf8").replace(/^.*\) /s, "").split(" ")[1]);
  const first = ppid();
  const timer = setInterval(() => {
    if (ppid() !== first) {
      clearInterval(timer);
      gone();
    }
  }, 500);
  return timer;
}

function consoleSink(mode: string | undefined, file: string | undefined): ConsoleSink {
  if (file !== undefined && mode !== undefined && mode !== "log") throw new UsageError("--console-log needs --console log");
  if (mode === "log" || (mode === undefined && file !== undefined)) {
    if (file === undefined) throw new UsageError("--console log needs --console-log FILE");
    return { kind: "log", file: resolve(file) };
  }
  if (mode === undefined || mode === "terminal") return { kind: "terminal" };
  if (mode === "off") return { kind: "off" };
  throw new UsageError(`--console must be terminal, off or log, not "${mode}"`);
}

/** Runs this command again inside a network namespace; forwards signals; removes a namespace it made. */
async function reRunInside(netns: string, args: string[], log: (line: string) => void, made: PodNetns | null): Promise<number> {
  const child = spawnOwn(["ip", "netns", "exec", netns, ...selfCommand(), "run", ...args], { stdin: "inherit", stdout: "inherit", stderr: "inherit", env: { ...process.env, ...launcherRuntimeEnv } });
  // Ctrl-C reaches the whole process group; the child acts on it, we wait for it.
  const forward = (sig: NodeJS.Signals): void => {
    if (sig === "SIGTERM") child.kill("SIGTERM");
  };
  process.on("SIGINT", () => undefined);
  process.on("SIGTERM", () => forward("SIGTERM"));
  const code = await child.exited;
  if (made !== null) {
    await made.remove().catch((e: unknown) => log(`run: removing network namespace "${made.name}": ${(e as Error).message}`));
  }
  return code;
}
