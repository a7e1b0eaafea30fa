import { describe, expect, test } from "bun:test";
import { StorageError } from "../provider.ts";
import { instanceId, localHostname, metaData, planNoCloud } from "./no-cloud-data.ts";

describe("NoCloud meta-data", () => {
  test("instance-id is the uid, else NAME.NAMESPACE (no '/': cloud-init makes a directory of it)", () => {
    expect(instanceId({ namespace: "ns", name: "vm", uid: "1234" })).toBe("1234");
    expect(instanceId({ namespace: "ns", name: "vm" })).toBe("vm.ns");
    expect(instanceId({ namespace: "ns", name: "vm", uid: "" })).toBe("vm.ns");
  });

  test("local-hostname is spec.hostname, else the VMI name, at most 63 characters", () => {
    expect(localHostname({ namespace: "ns", name: "vm", hostname: "web-1" })).toBe("web-1");
    expect(localHostname({ namespace: "ns", name: "vm" })).toBe("vm");
    expect(localHostname({ namespace: "ns", name: "a".repeat(80) })).toHaveLength(63);
  });

  test("meta-data is one JSON document (valid YAML)", () => {
    expect(JSON.parse(metaData({ namespace: "ns", name: "vm", uid: "u-1", hostname: "h" }))).toEqual({ "instance-id": "u-1", "local-hostname": "h" });
  });
});

describe("planNoCloud", () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  test("clear text, base64 and Secret sources", () => {
    expect(planNoCloud({ name: "c", cloudInitNoCloud: { userData: "#cloud-config\n" } })).toEqual({ user: { from: "inline", bytes: enc("#cloud-config\n") } });
    expect(planNoCloud({ name: "c", cloudInitNoCloud: { userDataBase64: Buffer.from("hi").toString("base64"), networkDataSecretRef: { name: "n" } } })).toEqual({
      user: { from: "inline", bytes: enc("hi") },
      network: { from: "secret", secret: "n", keys: ["networkdata", "networkData"] },
    });
    expect(planNoCloud({ name: "c", cloudInitNoCloud: { secretRef: { name: "u" } } }).user).toEqual({ from: "secret", secret: "u", keys: ["userdata", "userData"] });
  });

  test("exactly 2048 bytes pass, 2049 do not; network data has the same limit", () => {
    expect(() => planNoCloud({ name: "c", cloudInitNoCloud: { userData: "x".repeat(2048) } })).not.toThrow();
    expect(() => planNoCloud({ name: "c", cloudInitNoCloud: { userData: "é".repeat(1025) } })).toThrow("user data is 2050 bytes; at most 2048");
    expect(() => planNoCloud({ name: "c", cloudInitNoCloud: { networkData: "x".repeat(2049) } })).toThrow("network data is 2049 bytes");
  });

  test("no data at all, or two sources of one kind, are errors", () => {
    expect(() => planNoCloud({ name: "c", cloudInitNoCloud: {} })).toThrow(StorageError);
    expect(() => planNoCloud({ name: "c", cloudInitNoCloud: { networkData: "a", networkDataBase64: "YQ==" } })).toThrow("sets networkData and networkDataBase64");
  });
});
