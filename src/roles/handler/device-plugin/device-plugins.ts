/**
 * The handler's device plugins (KubeVirt's virt-handler serves the same
 * three): one per node device that exists, checked every `periodMs`;
 * readiness fails with the reason while a plugin is not registered.
 */
import { join } from "node:path";
import type { Readiness } from "../../../health/readiness.ts";
import type { Logger } from "../../../log/logger.ts";
import { DevicePlugin } from "./device-plugin.ts";
import { nodeDevices } from "./node-devices.ts";

export interface DevicePluginsConfig {
  /** The kubelet root as this process sees it. */
  kubeletRoot: string;
  devRoot?: string;
  log: Logger;
  readiness: Readiness;
  periodMs?: number;
}

export interface DevicePlugins {
  stop(): Promise<void>;
}

export function startDevicePlugins(config: DevicePluginsConfig): DevicePlugins {
  const pluginDir = join(config.kubeletRoot, "device-plugins");
  const plugins = nodeDevices.map((device) => ({
    plugin: new DevicePlugin({ pluginDir, device, devRoot: config.devRoot ?? "", log: config.log }),
    device,
    started: false,
  }));
  for (const p of plugins) {
    if (!p.plugin.devicePresent()) config.log(`no "${p.device.path}" on this node: not serving "${p.device.resourceName}" until it appears`);
  }
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let round: Promise<void> = Promise.resolve();
  const check = async (): Promise<void> => {
    for (const p of plugins) {
      if (stopped) return;
      if (!p.started && !p.plugin.devicePresent()) continue;
      p.started = true;
      const before = p.plugin.state;
      const state = await p.plugin.check();
      const condition = `device-plugin ${p.device.name}`;
      if (state.registered) config.readiness.pass(condition);
      else {
        config.readiness.fail(condition, state.reason);
        if (before.registered || ("reason" in before && before.reason !== state.reason)) config.log.warn(`"${p.device.resourceName}" not registered: ${state.reason}`);
      }
    }
  };
  const loop = (): void => {
    round = check()
      .catch((e: unknown) => config.log.error(`Cannot check the device plugins: ${(e as Error).message}`))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, config.periodMs ?? 1000);
      });
  };
  loop();
  return {
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await round;
      await Promise.all(plugins.map((p) => p.plugin.stop()));
    },
  };
}
