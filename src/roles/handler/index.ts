/**
 * The handler role (a DaemonSet, one per node): drives the launchers of the
 * VMIs on its node (handler-loop.ts) and keeps the node marked schedulable.
 * `--node-name` names the node, `--kubelet-root` the kubelet's directory as
 * this process sees it (default /var/lib/kubelet); `--registry` and
 * `--insecure-registry` are the registry settings for the container disks it
 * pulls for its launchers, `--disk-cache` its node cache of them (default
 * /var/lib/bunvirt/container-disks; container-disks.ts), pruned of disks no
 * pull used for `--disk-cache-keep` seconds (default a week;
 * node-cache-prune.ts). Its /metrics adds
 * each running VMI's figures in KubeVirt's names, read from the launchers on
 * every scrape (vmi-stats-collector.ts). With
 * `--device-plugins` (true unless "false") it serves /dev/kvm, /dev/net/tun
 * and /dev/vhost-net to the kubelet as extended resources (device-plugin/),
 * through `--device-plugin-dir` (default <kubelet-root>/device-plugins; the
 * kubelet's is /var/lib/kubelet/device-plugins whatever its --root-dir).
 * With `--console-addr HOST:PORT` it serves its VMIs' serial consoles to the
 * controller (console-setup.ts), advertised on its Node as
 * `--console-advertise IP` ($POD_IP when not given).
 */
import { hostname } from "node:os";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { isDns1123Subdomain } from "../../api/names.ts";
import { retryUntil, type Retrying } from "../../retry/retry-until.ts";
import { UsageError } from "../../cli/usage.ts";
import { connectRole } from "../cluster-readiness.ts";
import type { RoleMain } from "../role.ts";
import type { HandlerLoop } from "./handler-loop.ts";
import { realKubeletRoot } from "./launcher-socket.ts";
import { startDevicePlugins, type DevicePlugins } from "./device-plugin/index.ts";
import type { ConsoleSetup } from "./console-setup.ts";
import { defaultKeepSeconds, startNodeCachePrune } from "./node-cache-prune.ts";
import { secondsFlag } from "../../cli/seconds-flag.ts";

/** Where the handler keeps the container disks it pulled (KubeVirt keeps its node state under /var/lib/kubevirt). */
export const defaultNodeCacheDir = "/var/lib/bunvirt/container-disks";

export const handlerMain: RoleMain = async (ctx) => {
  const nodeName = String(ctx.flags.nodeName ?? process.env.NODE_NAME ?? hostname());
  if (!isDns1123Subdomain(nodeName)) throw new UsageError(`--node-name "${nodeName}" is not a node name (DNS-1123 subdomain)`);
  const kubeletFlag = String(ctx.flags.kubeletRoot ?? "/var/lib/kubelet");
  const insecure = typeof ctx.flags.insecureRegistry === "string" && ctx.flags.insecureRegistry !== "" ? ctx.flags.insecureRegistry.split(",") : [];
  const registry = {
    ...(typeof ctx.flags.registry === "string" ? { defaultRegistry: ctx.flags.registry } : {}),
    insecureRegistries: insecure,
    nodeCacheDir: String(ctx.flags.diskCache ?? defaultNodeCacheDir),
  };
  const keepSeconds = secondsFlag("disk-cache-keep", ctx.flags.diskCacheKeep) ?? defaultKeepSeconds;
  const devicePluginsFlag = String(ctx.flags.devicePlugins ?? "true");
  if (!["true", "false", "only"].includes(devicePluginsFlag)) throw new UsageError(`--device-plugins must be "true", "false" or "only", not "${devicePluginsFlag}"`);
  const pluginDirOf = (kubeletRoot: string): string => (typeof ctx.flags.devicePluginDir === "string" ? ctx.flags.devicePluginDir : join(kubeletRoot, "device-plugins"));
  if (devicePluginsFlag === "only") return devicePluginsOnly(ctx, kubeletFlag, pluginDirOf);
  const loopModule = import("./handler-loop.ts");
  let devicePlugins: DevicePlugins | undefined;
  let loop: HandlerLoop | undefined;
  let consoleSetup: ConsoleSetup | undefined;
  if (typeof ctx.flags.consoleAddr === "string") {
    const { startConsoleServer } = await import("./console-setup.ts");
    consoleSetup = await startConsoleServer({
      addr: ctx.flags.consoleAddr,
      ...(typeof ctx.flags.consoleAdvertise === "string" ? { advertise: ctx.flags.consoleAdvertise } : {}),
      namespace: process.env.POD_NAMESPACE ?? "bunvirt",
      lookup: (request) => loop?.consoleLookup(request) ?? { ok: false, code: 500, message: "The handler has not synced its VMIs yet" },
      log: ctx.log,
    });
  } else if (ctx.flags.consoleAdvertise !== undefined) {
    throw new UsageError("--console-advertise needs --console-addr (where the console server listens)");
  }
  let waiting: Retrying | undefined;
  let stopped = false;
  ctx.readiness.fail("caches", "not synced yet");
  // The kubelet may make its directory after the handler starts: wait for it.
  const startLoop = (kc: KubeConfig): void => {
    consoleSetup?.watchCa(kc);
    waiting = retryUntil(
      () => {
        const kubeletRoot = realKubeletRoot(kubeletFlag);
        ctx.readiness.pass("kubelet");
        ctx.log(`handler for node "${nodeName}", kubelet root "${kubeletRoot}"`);
        if (devicePluginsFlag === "true" && devicePlugins === undefined && !stopped) {
          devicePlugins = startDevicePlugins({ pluginDir: pluginDirOf(kubeletRoot), log: ctx.log, readiness: ctx.readiness });
        }
        void loopModule.then(async (m) => {
          if (stopped) return;
          loop = new m.HandlerLoop(kc, { nodeName, kubeletRoot, registry, log: ctx.log, ...(consoleSetup !== undefined ? { nodeAnnotations: consoleSetup.annotations } : {}) });
          await loop.start();
          ctx.readiness.pass("caches");
        }).catch((e: unknown) => ctx.log.error(`Cannot start the handler loop: ${(e as Error).message}`));
      },
      (e, n) => {
        ctx.readiness.fail("kubelet", e.message);
        if (n === 0) ctx.log.warn(`${e.message}; waiting for it`);
      },
    );
  };
  ctx.metrics.collect(async (m) => {
    if (loop === undefined) return;
    const [{ collectVmiStats }, { writeVmiInfo }] = await Promise.all([import("./vmi-stats-collector.ts"), import("./vmi-metrics.ts")]);
    for (const { vmi, phase } of loop.vmiPhases()) if (phase !== "") writeVmiInfo(m, vmi, phase);
    await collectVmiStats(m, loop.statsTargets(), {
      onError: (vmi, e) => ctx.log.debug(`no stats of VMI "${vmi.namespace}/${vmi.name}": ${e.message}`, { kind: "VirtualMachineInstance", namespace: vmi.namespace, name: vmi.name }),
    });
  });
  const connection = connectRole(ctx, startLoop);
  const prune = startNodeCachePrune({ dir: registry.nodeCacheDir, keepSeconds, log: ctx.log });
  return async () => {
    stopped = true;
    waiting?.stop();
    connection.stop();
    await prune.stop();
    await consoleSetup?.stop();
    await loop?.stop();
    await devicePlugins?.stop();
  };
};

/**
 * `--device-plugins only`: the device plugins and nothing else (no API
 * server, no VMIs, no heartbeat), for running them apart from the handler
 * that syncs launchers, so holding or restarting that one leaves the node's
 * devices served.
 */
async function devicePluginsOnly(ctx: Parameters<RoleMain>[0], kubeletFlag: string, pluginDirOf: (kubeletRoot: string) => string): Promise<() => Promise<void>> {
  let plugins: DevicePlugins | undefined;
  ctx.readiness.fail("kubelet", "looking for the kubelet's directory");
  const waiting = retryUntil(
    () => {
      const kubeletRoot = realKubeletRoot(kubeletFlag);
      ctx.readiness.pass("kubelet");
      ctx.log(`device plugins only, kubelet root "${kubeletRoot}"`);
      plugins = startDevicePlugins({ pluginDir: pluginDirOf(kubeletRoot), log: ctx.log, readiness: ctx.readiness });
    },
    (e, n) => {
      ctx.readiness.fail("kubelet", e.message);
      if (n === 0) ctx.log.warn(`${e.message}; waiting for it`);
    },
  );
  return async () => {
    waiting.stop();
    await plugins?.stop();
  };
}
