/**
 * The handler role (a DaemonSet, one per node): drives the launchers of the
 * VMIs on its node (handler-loop.ts) and keeps the node marked schedulable.
 * `--node-name` names the node, `--kubelet-root` the kubelet's directory as
 * this process sees it (default /var/lib/kubelet); `--registry` and
 * `--insecure-registry` are the registry settings for the container disks it
 * pulls for its launchers, `--disk-cache` its node cache of them (default
 * /var/lib/bunvirt/container-disks; container-disks.ts). With
 * `--device-plugins` (true unless "false") it serves /dev/kvm, /dev/net/tun
 * and /dev/vhost-net to the kubelet as extended resources (device-plugin/).
 */
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { isDns1123Subdomain } from "../../api/names.ts";
import { retryUntil, type Retrying } from "../../retry/retry-until.ts";
import { UsageError } from "../../cli/usage.ts";
import { connectRole } from "../cluster-readiness.ts";
import type { RoleMain } from "../role.ts";
import type { HandlerLoop } from "./handler-loop.ts";
import { realKubeletRoot } from "./launcher-socket.ts";
import { startDevicePlugins, type DevicePlugins } from "./device-plugin/index.ts";

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
  const devicePluginsFlag = String(ctx.flags.devicePlugins ?? "true");
  if (devicePluginsFlag !== "true" && devicePluginsFlag !== "false") throw new UsageError(`--device-plugins must be "true" or "false", not "${devicePluginsFlag}"`);
  const loopModule = import("./handler-loop.ts");
  let devicePlugins: DevicePlugins | undefined;
  let loop: HandlerLoop | undefined;
  let waiting: Retrying | undefined;
  let stopped = false;
  ctx.readiness.fail("caches", "not synced yet");
  // The kubelet may make its directory after the handler starts: wait for it.
  const startLoop = (kc: KubeConfig): void => {
    waiting = retryUntil(
      () => {
        const kubeletRoot = realKubeletRoot(kubeletFlag);
        ctx.readiness.pass("kubelet");
        ctx.log(`handler for node "${nodeName}", kubelet root "${kubeletRoot}"`);
        if (devicePluginsFlag === "true" && devicePlugins === undefined && !stopped) {
          devicePlugins = startDevicePlugins({ kubeletRoot, log: ctx.log, readiness: ctx.readiness });
        }
        void loopModule.then(async (m) => {
          if (stopped) return;
          loop = new m.HandlerLoop(kc, { nodeName, kubeletRoot, registry, log: ctx.log });
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
  const connection = connectRole(ctx, startLoop);
  return async () => {
    stopped = true;
    waiting?.stop();
    connection.stop();
    await loop?.stop();
    await devicePlugins?.stop();
  };
};
