import { describe, expect, test } from "bun:test";
import { caFromConfigMap, consoleAdvertiseHost, consoleCaPollMs, consoleCaRetryMs, nextCaReadMs } from "./console-setup.ts";

describe("console setup", () => {
  test("the advertised host: the flag, else the pod IP, else a specific listen host", () => {
    expect(consoleAdvertiseHost("0.0.0.0", "10.1.2.3", "10.9.9.9")).toBe("10.1.2.3");
    expect(consoleAdvertiseHost("0.0.0.0", undefined, "10.9.9.9")).toBe("10.9.9.9");
    expect(consoleAdvertiseHost("127.0.0.1", undefined, undefined)).toBe("127.0.0.1");
    expect(() => consoleAdvertiseHost("0.0.0.0", undefined, undefined)).toThrow("give --console-advertise IP");
    expect(() => consoleAdvertiseHost("0.0.0.0", "node-a", undefined)).toThrow('--console-advertise "node-a" is not an IP address');
  });

  test("the CA from ConfigMap bunvirt-ca: a certificate only", () => {
    const pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    expect(caFromConfigMap({ data: { "ca.crt": pem } })).toBe(pem);
    expect(() => caFromConfigMap({})).toThrow("ConfigMap bunvirt-ca key ca.crt: missing");
    expect(() => caFromConfigMap({ data: { "ca.crt": "hello" } })).toThrow("not a PEM certificate");
    expect(() => caFromConfigMap({ data: { "ca.crt": `${pem}-----BEGIN PRIVATE KEY-----\n` } })).toThrow("holds a private key");
    expect(() => caFromConfigMap({ data: { "ca.crt": pem + "x".repeat(70_000) } })).toThrow("more than 65536 bytes");
  });

  test("the CA is read every 2 s while there is none, every 30 s once there is one", () => {
    expect(nextCaReadMs(false)).toBe(consoleCaRetryMs);
    expect(nextCaReadMs(true)).toBe(consoleCaPollMs);
    expect(consoleCaRetryMs).toBeLessThan(consoleCaPollMs);
  });
});
