/**
 * One device plugin (one extended resource): serves the kubelet's
 * DevicePlugin service on <device-plugins>/bunvirt-<name>.sock and registers
 * it with <device-plugins>/kubelet.sock. `check()` is called periodically:
 * it re-sends the device list when the device node appears or goes, and
 * serves and registers again when the kubelet restarted (it deletes the
 * sockets in its directory and makes a new kubelet.sock).
 */
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../../log/logger.ts";
import {
  decodeAllocateRequest,
  devicePluginApiVersion,
  devicePluginPaths,
  encodeAllocateResponse,
  encodeDevicePluginOptions,
  encodeEmpty,
  encodeListAndWatchResponse,
  encodeRegisterRequest,
  kubeletSocketName,
  registerPath,
} from "./device-plugin-api.ts";
import { grpcUnaryCall } from "./grpc-client.ts";
import { serveGrpc, type GrpcServer } from "./grpc-server.ts";
import { allocation, deviceList, pluginSocketName, type NodeDevice } from "./node-devices.ts";

export interface DevicePluginConfig {
  /** The kubelet's device-plugins directory as this process sees it. */
  pluginDir: string;
  device: NodeDevice;
  /** Where this process sees the node's device nodes ("" when they are at their own paths). */
  devRoot: string;
  log: Logger;
}

export type PluginState = { registered: true } | { registered: false; reason: string };

export class DevicePlugin {
  readonly #c: DevicePluginConfig;
  readonly #socket: string;
  readonly #kubeletSocket: string;
  #server: GrpcServer | undefined;
  #kubeletIno: number | undefined;
  #present = false;
  #state: PluginState = { registered: false, reason: "not started" };
  readonly #watchers = new Set<(message: Uint8Array) => void>();

  constructor(config: DevicePluginConfig) {
    this.#c = config;
    this.#socket = join(config.pluginDir, pluginSocketName(config.device));
    this.#kubeletSocket = join(config.pluginDir, kubeletSocketName);
  }

  get state(): PluginState {
    return this.#state;
  }

  /** Whether the device node exists on the node now. */
  devicePresent(): boolean {
    return existsSync(this.#c.devRoot + this.#c.device.path);
  }

  /** One round: health, then (re)serve and (re)register when needed. Errors become the state. */
  async check(): Promise<PluginState> {
    const present = this.devicePresent();
    if (present !== this.#present) {
      this.#present = present;
      if (this.#server !== undefined) this.#c.log.warn(`device "${this.#c.device.path}" ${present ? "is back" : "is gone"}: "${this.#c.device.resourceName}" ${present ? "healthy" : "unhealthy"}`);
      const list = encodeListAndWatchResponse(deviceList(this.#c.device, present));
      for (const send of this.#watchers) send(list);
    }
    let kubeletIno: number;
    try {
      kubeletIno = statSync(this.#kubeletSocket).ino;
    } catch {
      this.#kubeletIno = undefined;
      return (this.#state = { registered: false, reason: `no kubelet socket "${this.#kubeletSocket}"` });
    }
    if (this.#state.registered && kubeletIno === this.#kubeletIno && existsSync(this.#socket)) return this.#state;
    try {
      if (this.#state.registered) this.#c.log(`kubelet restarted or "${this.#socket}" removed: registering "${this.#c.device.resourceName}" again`);
      await this.#serve();
      await grpcUnaryCall(
        this.#kubeletSocket,
        registerPath,
        encodeRegisterRequest({
          version: devicePluginApiVersion,
          endpoint: pluginSocketName(this.#c.device),
          resourceName: this.#c.device.resourceName,
          options: { preStartRequired: false, getPreferredAllocationAvailable: false },
        }),
      );
      this.#kubeletIno = kubeletIno;
      this.#c.log(`registered "${this.#c.device.resourceName}" (${this.#c.device.path}) with the kubelet`);
      return (this.#state = { registered: true });
    } catch (e) {
      return (this.#state = { registered: false, reason: (e as Error).message });
    }
  }

  async #serve(): Promise<void> {
    await this.#closeServer();
    rmSync(this.#socket, { force: true });
    const device = this.#c.device;
    this.#server = await serveGrpc(this.#socket, {
      unary: {
        [devicePluginPaths.options]: () => encodeDevicePluginOptions({ preStartRequired: false, getPreferredAllocationAvailable: false }),
        [devicePluginPaths.allocate]: (req) => encodeAllocateResponse(allocation(device, decodeAllocateRequest(req))),
        [devicePluginPaths.preStart]: () => encodeEmpty(),
        // Any devices do: they are all the same node. The kubelet only asks when the options say so.
        [devicePluginPaths.preferredAllocation]: () => encodeEmpty(),
      },
      streams: {
        [devicePluginPaths.listAndWatch]: (_req, send, closed) => {
          this.#watchers.add(send);
          closed.addEventListener("abort", () => this.#watchers.delete(send));
          send(encodeListAndWatchResponse(deviceList(device, this.#present)));
        },
      },
    });
  }

  async #closeServer(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#watchers.clear();
    await server?.close();
  }

  /** Stops serving and removes the socket (the kubelet then drops the resource's capacity to 0). */
  async stop(): Promise<void> {
    await this.#closeServer();
    rmSync(this.#socket, { force: true });
    this.#state = { registered: false, reason: "stopped" };
  }
}
