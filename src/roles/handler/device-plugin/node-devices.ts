/**
 * The node devices bunvirt serves as extended resources (KubeVirt's names):
 * what a launcher pod asks for instead of being privileged, and what the
 * kubelet gets back for it. Pure.
 */
import { healthy, unhealthy, type ContainerAllocateResponse, type Device } from "./device-plugin-api.ts";
import { GrpcError } from "./grpc-server.ts";
import { grpcStatus } from "./grpc-frame.ts";

export interface NodeDevice {
  /** The extended resource, e.g. devices.kubevirt.io/kvm. */
  resourceName: string;
  /** Short name: the plugin's socket is bunvirt-<name>.sock. */
  name: string;
  /** The device node on the node (and, the same path, in the container). */
  path: string;
  /** cgroup device permissions granted. */
  permissions: string;
}

export const nodeDevices: readonly NodeDevice[] = [
  { resourceName: "devices.kubevirt.io/kvm", name: "kvm", path: "/dev/kvm", permissions: "rw" },
  { resourceName: "devices.kubevirt.io/tun", name: "tun", path: "/dev/net/tun", permissions: "rw" },
  { resourceName: "devices.kubevirt.io/vhost-net", name: "vhost-net", path: "/dev/vhost-net", permissions: "rw" },
];

/** How many pods of a node may hold each device at once (KubeVirt offers 1000 too): the devices share one node. */
export const devicesPerResource = 1000;

export function pluginSocketName(device: NodeDevice): string {
  return `bunvirt-${device.name}.sock`;
}

/** The ids the plugin lists: <name>-0 … <name>-(count-1), all with the device node's health. */
export function deviceList(device: NodeDevice, present: boolean, count = devicesPerResource): Device[] {
  return Array.from({ length: count }, (_, i) => ({ id: `${device.name}-${i}`, health: present ? healthy : unhealthy }));
}

/** The answer to Allocate: each container that got any of the ids gets the one device node. */
export function allocation(device: NodeDevice, containers: readonly (readonly string[])[], count = devicesPerResource): ContainerAllocateResponse[] {
  const known = new Set(deviceList(device, true, count).map((d) => d.id));
  return containers.map((ids) => {
    const unknown = ids.find((id) => !known.has(id));
    if (unknown !== undefined) throw new GrpcError(grpcStatus.invalidArgument, `Cannot allocate "${unknown}" of "${device.resourceName}": no such device`);
    return { envs: {}, devices: [{ containerPath: device.path, hostPath: device.path, permissions: device.permissions }] };
  });
}
