import { describe, expect, test } from "bun:test";
import { allocation, deviceList, nodeDevices, pluginSocketName } from "./node-devices.ts";

const tun = nodeDevices.find((d) => d.name === "tun")!;

describe("node devices", () => {
  test("KubeVirt's resource names and device nodes", () => {
    expect(nodeDevices.map((d) => [d.resourceName, d.path])).toEqual([
      ["devices.kubevirt.io/kvm", "/dev/kvm"],
      ["devices.kubevirt.io/tun", "/dev/net/tun"],
      ["devices.kubevirt.io/vhost-net", "/dev/vhost-net"],
    ]);
    expect(new Set(nodeDevices.map(pluginSocketName)).size).toBe(3);
  });

  test("the list has distinct ids, all healthy or all unhealthy with the device node", () => {
    const list = deviceList(tun, true, 5);
    expect(list.map((d) => d.id)).toEqual(["tun-0", "tun-1", "tun-2", "tun-3", "tun-4"]);
    expect(new Set(list.map((d) => d.health))).toEqual(new Set(["Healthy"]));
    expect(new Set(deviceList(tun, false, 5).map((d) => d.health))).toEqual(new Set(["Unhealthy"]));
  });

  test("allocation gives each container the one device node, read-write", () => {
    expect(allocation(tun, [["tun-0", "tun-3"], ["tun-1"]], 5)).toEqual([
      { envs: {}, devices: [{ containerPath: "/dev/net/tun", hostPath: "/dev/net/tun", permissions: "rw" }] },
      { envs: {}, devices: [{ containerPath: "/dev/net/tun", hostPath: "/dev/net/tun", permissions: "rw" }] },
    ]);
  });

  test("an id the plugin never listed is refused", () => {
    expect(() => allocation(tun, [["tun-5"]], 5)).toThrow(/Cannot allocate "tun-5" of "devices.kubevirt.io\/tun": no such device/);
    expect(() => allocation(tun, [["kvm-0"]], 5)).toThrow(/no such device/);
  });
});
