/**
 * The handler role (a DaemonSet, one per node): drives the launchers of the
 * VMIs on its node (handler-loop.ts) and keeps the node marked schedulable.
 * `--node-name` names the node, `--kubelet-root` the kubelet's directory as
 * this process sees it (default /var/lib/kubelet); `--registry` and
 * `--insecure-registry` are the registry settings for the container disks it
 * pulls for its launchers (container-disks.ts).
 */
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { backoffDelay, clusterBackoff } from "../../retry/backoff.ts";
import { UsageError } from "../../cli/usage.ts";
import { connectRole } from "../cluster-readiness.ts";
import type { RoleMain } from "../role.ts";
import type { HandlerLoop } from "./handler-loop.ts";
import { realKubeletRoot } from "./launcher-socket.ts";

export const handlerMain: RoleMain = async (ctx) => {
  const nodeName = String(ctx.flags.nodeName ?? process.env.NODE_NAME ?? hostname());
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(nodeName)) throw new UsageError(`--node-name "${nodeName}" is not a node name (DNS-1123 subdomain)`);
  const kubeletFlag = String(ctx.flags.kubeletRoot ?? "/var/lib/kubelet");
  const insecure = typeof ctx.flags.insecureRegistry === "string" && ctx.flags.insecureRegistry !== "" ? ctx.flags.insecureRegistry.split(",") : [];
  const registry = {
    ...(typeof ctx.flags.registry === "string" ? { defaultRegistry: ctx.flags.registry } : {}),
    insecureRegistries: insecure,
  };
  const loopModule = import("./handler-loop.ts");
  let loop: HandlerLoop | undefined;
  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  ctx.readiness.fail("caches", "not synced yet");
  // The kubelet may make its directory after the handler starts: wait for it.
  const startLoop = (kc: KubeConfig, attempt: number): void => {
    if (stopped) return;
    let kubeletRoot: string;
    try {
      kubeletRoot = realKubeletRoot(kubeletFlag);
      ctx.readiness.pass("kubelet");
    } catch (e) {
      ctx.readiness.fail("kubelet", (e as Error).message);
      if (attempt === 0) ctx.log(`${(e as Error).message}; waiting for it`);
      retry = setTimeout(() => startLoop(kc, attempt + 1), backoffDelay(attempt, clusterBackoff));
      return;
    }
    ctx.log(`handler for node "${nodeName}", kubelet root "${kubeletRoot}"`);
    void loopModule.then(async (m) => {
      if (stopped) return;
      loop = new m.HandlerLoop(kc, { nodeName, kubeletRoot, registry, log: ctx.log });
      await loop.start();
      ctx.readiness.pass("caches");
    }).catch((e: unknown) => ctx.log(`Cannot start the handler loop: ${(e as Error).message}`));
  };
  const connection = connectRole(ctx, (kc) => startLoop(kc, 0));
  return async () => {
    stopped = true;
    clearTimeout(retry);
    connection.stop();
    await loop?.stop();
  };
};
