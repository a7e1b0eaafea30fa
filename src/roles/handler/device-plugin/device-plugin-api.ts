/**
 * The kubelet's device-plugin API v1beta1 (k8s.io/kubelet/pkg/apis/
 * deviceplugin/v1beta1, api.proto): the messages bunvirt sends and reads,
 * with their field numbers, and the method paths. Pure.
 */
import { decodeFields, encodeFields, encodeStringMap, messagesOf, stringMapOf, stringOf, stringsOf, varintOf } from "./protobuf.ts";

export const devicePluginApiVersion = "v1beta1";
/** The kubelet's registration socket, in the device-plugins directory. */
export const kubeletSocketName = "kubelet.sock";
export const registerPath = "/v1beta1.Registration/Register";
export const devicePluginPaths = {
  options: "/v1beta1.DevicePlugin/GetDevicePluginOptions",
  listAndWatch: "/v1beta1.DevicePlugin/ListAndWatch",
  preferredAllocation: "/v1beta1.DevicePlugin/GetPreferredAllocation",
  allocate: "/v1beta1.DevicePlugin/Allocate",
  preStart: "/v1beta1.DevicePlugin/PreStartContainer",
} as const;

export const healthy = "Healthy";
export const unhealthy = "Unhealthy";

export interface DevicePluginOptions {
  preStartRequired: boolean;
  getPreferredAllocationAvailable: boolean;
}

export interface RegisterRequest {
  version: string;
  /** The plugin's socket name, relative to the device-plugins directory. */
  endpoint: string;
  resourceName: string;
  options: DevicePluginOptions;
}

export interface Device {
  id: string;
  health: typeof healthy | typeof unhealthy;
}

export interface DeviceSpec {
  containerPath: string;
  hostPath: string;
  /** cgroup device permissions: r, w, m. */
  permissions: string;
}

export interface ContainerAllocateResponse {
  envs: Record<string, string>;
  devices: DeviceSpec[];
}

const empty = new Uint8Array(0);
export const encodeEmpty = (): Uint8Array => empty;

export function encodeDevicePluginOptions(o: DevicePluginOptions): Uint8Array {
  return encodeFields([[1, o.preStartRequired], [2, o.getPreferredAllocationAvailable]]);
}

export function decodeDevicePluginOptions(buf: Uint8Array): DevicePluginOptions {
  const f = decodeFields(buf);
  return { preStartRequired: varintOf(f, 1) !== 0n, getPreferredAllocationAvailable: varintOf(f, 2) !== 0n };
}

export function encodeRegisterRequest(r: RegisterRequest): Uint8Array {
  return encodeFields([[1, r.version], [2, r.endpoint], [3, r.resourceName], [4, encodeDevicePluginOptions(r.options)]]);
}

export function decodeRegisterRequest(buf: Uint8Array): RegisterRequest {
  const f = decodeFields(buf);
  const options = messagesOf(f, 4).at(-1);
  return {
    version: stringOf(f, 1),
    endpoint: stringOf(f, 2),
    resourceName: stringOf(f, 3),
    options: options === undefined ? { preStartRequired: false, getPreferredAllocationAvailable: false } : decodeDevicePluginOptions(options),
  };
}

export function encodeListAndWatchResponse(devices: readonly Device[]): Uint8Array {
  return encodeFields(devices.map((d) => [1, encodeFields([[1, d.id], [2, d.health]])]));
}

export function decodeListAndWatchResponse(buf: Uint8Array): Device[] {
  return messagesOf(decodeFields(buf), 1).map((m) => {
    const f = decodeFields(m);
    const health = stringOf(f, 2);
    return { id: stringOf(f, 1), health: health === healthy ? healthy : unhealthy };
  });
}

/** AllocateRequest: for each container, the device ids the kubelet chose. */
export function decodeAllocateRequest(buf: Uint8Array): string[][] {
  return messagesOf(decodeFields(buf), 1).map((c) => stringsOf(decodeFields(c), 1));
}

export function encodeAllocateRequest(containers: readonly (readonly string[])[]): Uint8Array {
  return encodeFields(containers.map((ids) => [1, encodeFields(ids.map((id) => [1, id]))]));
}

export function encodeAllocateResponse(containers: readonly ContainerAllocateResponse[]): Uint8Array {
  return encodeFields(
    containers.map((c) => [
      1,
      encodeFields([
        ...encodeStringMap(1, c.envs),
        ...c.devices.map((d): [number, Uint8Array] => [3, encodeFields([[1, d.containerPath], [2, d.hostPath], [3, d.permissions]])]),
      ]),
    ]),
  );
}

export function decodeAllocateResponse(buf: Uint8Array): ContainerAllocateResponse[] {
  return messagesOf(decodeFields(buf), 1).map((c) => {
    const f = decodeFields(c);
    return {
      envs: stringMapOf(f, 1),
      devices: messagesOf(f, 3).map((d) => {
        const g = decodeFields(d);
        return { containerPath: stringOf(g, 1), hostPath: stringOf(g, 2), permissions: stringOf(g, 3) };
      }),
    };
  });
}

/** PreferredAllocationRequest: per container, the ids available. */
export function decodePreferredAllocationRequest(buf: Uint8Array): { available: string[]; mustInclude: string[]; size: number }[] {
  return messagesOf(decodeFields(buf), 1).map((c) => {
    const f = decodeFields(c);
    return { available: stringsOf(f, 1), mustInclude: stringsOf(f, 2), size: Number(varintOf(f, 3)) };
  });
}

export function encodePreferredAllocationResponse(containers: readonly (readonly string[])[]): Uint8Array {
  return encodeFields(containers.map((ids) => [1, encodeFields(ids.map((id) => [1, id]))]));
}
