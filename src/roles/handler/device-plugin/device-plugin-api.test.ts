import { describe, expect, test } from "bun:test";
import {
  decodeAllocateRequest,
  decodeAllocateResponse,
  decodeDevicePluginOptions,
  decodeListAndWatchResponse,
  decodePreferredAllocationRequest,
  decodeRegisterRequest,
  encodeAllocateRequest,
  encodeAllocateResponse,
  encodeDevicePluginOptions,
  encodeListAndWatchResponse,
  encodeRegisterRequest,
} from "./device-plugin-api.ts";
import { encodeFields } from "./protobuf.ts";

// Bytes from Go's google.golang.org/protobuf Marshal of the k8s.io/kubelet v0.34.4 types (Deterministic for the map).
const fromGo = {
  register: "0a0776316265746131121062756e766972742d74756e2e736f636b1a17646576696365732e6b756265766972742e696f2f74756e2200",
  allocateResponse: "0a2a0a060a01411201621a200a0c2f6465762f6e65742f74756e120c2f6465762f6e65742f74756e1a027277",
  allocateRequest: "0a100a0574756e2d370a0774756e2d3330300a070a0574756e2d31",
  listAndWatch: "0a100a056b766d2d3012074865616c7468790a120a056b766d2d311209556e6865616c746879",
  options: "08011001",
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"));

describe("device-plugin API v1beta1 messages, byte for byte as Go writes them", () => {
  test("RegisterRequest", () => {
    const r = { version: "v1beta1", endpoint: "bunvirt-tun.sock", resourceName: "devices.kubevirt.io/tun", options: { preStartRequired: false, getPreferredAllocationAvailable: false } };
    expect(hex(encodeRegisterRequest(r))).toBe(fromGo.register);
    expect(decodeRegisterRequest(bytes(fromGo.register))).toEqual(r);
  });

  test("AllocateResponse with a DeviceSpec and an env", () => {
    const c = [{ envs: { A: "b" }, devices: [{ containerPath: "/dev/net/tun", hostPath: "/dev/net/tun", permissions: "rw" }] }];
    expect(hex(encodeAllocateResponse(c))).toBe(fromGo.allocateResponse);
    expect(decodeAllocateResponse(bytes(fromGo.allocateResponse))).toEqual(c);
  });

  test("AllocateRequest: ids per container", () => {
    expect(decodeAllocateRequest(bytes(fromGo.allocateRequest))).toEqual([["tun-7", "tun-300"], ["tun-1"]]);
    expect(hex(encodeAllocateRequest([["tun-7", "tun-300"], ["tun-1"]]))).toBe(fromGo.allocateRequest);
  });

  test("ListAndWatchResponse", () => {
    const d = [{ id: "kvm-0", health: "Healthy" as const }, { id: "kvm-1", health: "Unhealthy" as const }];
    expect(hex(encodeListAndWatchResponse(d))).toBe(fromGo.listAndWatch);
    expect(decodeListAndWatchResponse(bytes(fromGo.listAndWatch))).toEqual(d);
  });

  test("DevicePluginOptions", () => {
    expect(hex(encodeDevicePluginOptions({ preStartRequired: true, getPreferredAllocationAvailable: true }))).toBe(fromGo.options);
    expect(decodeDevicePluginOptions(new Uint8Array(0))).toEqual({ preStartRequired: false, getPreferredAllocationAvailable: false });
  });

  test("PreferredAllocationRequest", () => {
    const req = encodeFields([[1, encodeFields([[1, "a"], [1, "b"], [2, "a"], [3, 1]])]]);
    expect(decodePreferredAllocationRequest(req)).toEqual([{ available: ["a", "b"], mustInclude: ["a"], size: 1 }]);
  });
});
