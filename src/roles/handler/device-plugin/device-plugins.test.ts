import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readiness } from "../../../health/readiness.ts";
import { makeLogger } from "../../../log/logger.ts";
import { decodeAllocateResponse, decodeListAndWatchResponse, decodeRegisterRequest, devicePluginPaths, encodeAllocateRequest, encodeEmpty, registerPath, type Device, type RegisterRequest } from "./device-plugin-api.ts";
import { startDevicePlugins, type DevicePlugins } from "./device-plugins.ts";
import { grpcUnaryCall } from "./grpc-client.ts";
import { Deframer, frameMessage } from "./grpc-frame.ts";
import { serveGrpc, type GrpcServer } from "./grpc-server.ts";

const log = makeLogger({ role: "test", format: "text", level: "error", write: () => undefined });
const until = async (what: string, ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 500; i++) {
    if (ok()) return;
    await Bun.sleep(10);
  }
  throw new Error(`never: ${what}`);
};

/** A kubelet's Registration service: records what registers. */
async function fakeKubelet(pluginDir: string, seen: RegisterRequest[]): Promise<GrpcServer> {
  return serveGrpc(join(pluginDir, "kubelet.sock"), {
    unary: { [registerPath]: (req) => (seen.push(decodeRegisterRequest(req)), encodeEmpty()) },
    streams: {},
  });
}

/** Reads ListAndWatch messages from a plugin socket until `stop` is called. */
function watch(socket: string, lists: Device[][]): { stop(): void } {
  const client = http2.connect("http://localhost", { createConnection: () => connect(socket) });
  client.on("error", () => undefined);
  const req = client.request({ ":method": "POST", ":path": devicePluginPaths.listAndWatch, "content-type": "application/grpc", te: "trailers" });
  req.on("error", () => undefined);
  const d = new Deframer();
  req.on("data", (chunk: Uint8Array) => lists.push(...d.push(chunk).map(decodeListAndWatchResponse)));
  req.end(frameMessage(encodeEmpty()));
  return { stop: () => client.destroy() };
}

let root = "";
let plugins: DevicePlugins | undefined;
let kubelet: GrpcServer | undefined;
afterEach(async () => {
  await plugins?.stop();
  await kubelet?.close();
  plugins = kubelet = undefined;
  rmSync(root, { recursive: true, force: true });
});

function setUp(): { pluginDir: string; devRoot: string } {
  root = mkdtempSync(join(tmpdir(), "bunvirt-dp-"));
  const pluginDir = join(root, "kubelet", "device-plugins");
  const devRoot = join(root, "node");
  mkdirSync(pluginDir, { recursive: true });
  mkdirSync(join(devRoot, "dev", "net"), { recursive: true });
  writeFileSync(join(devRoot, "dev", "kvm"), "");
  writeFileSync(join(devRoot, "dev", "net", "tun"), "");
  return { pluginDir, devRoot };
}

describe("the handler's device plugins (a fake kubelet on a unix socket)", () => {
  test("each device node present registers its resource; the plugin lists, allocates, answers the optional calls", async () => {
    const { pluginDir, devRoot } = setUp();
    const seen: RegisterRequest[] = [];
    kubelet = await fakeKubelet(pluginDir, seen);
    const readiness = new Readiness();
    plugins = startDevicePlugins({ kubeletRoot: join(root, "kubelet"), devRoot, log, readiness, periodMs: 20 });
    await until("two registrations", () => seen.length === 2);
    expect(seen.map((r) => [r.version, r.resourceName, r.endpoint]).sort()).toEqual([
      ["v1beta1", "devices.kubevirt.io/kvm", "bunvirt-kvm.sock"],
      ["v1beta1", "devices.kubevirt.io/tun", "bunvirt-tun.sock"],
    ]);
    await until("ready", () => readiness.ready);
    const tunSocket = join(pluginDir, "bunvirt-tun.sock");
    const answer = await grpcUnaryCall(tunSocket, devicePluginPaths.allocate, encodeAllocateRequest([["tun-3"]]));
    expect(decodeAllocateResponse(answer)).toEqual([{ envs: {}, devices: [{ containerPath: "/dev/net/tun", hostPath: "/dev/net/tun", permissions: "rw" }] }]);
    await expect(grpcUnaryCall(tunSocket, devicePluginPaths.allocate, encodeAllocateRequest([["tun-1000"]]))).rejects.toThrow(/gRPC status 3 .*no such device/);
    expect(await grpcUnaryCall(tunSocket, devicePluginPaths.preStart, encodeEmpty())).toEqual(new Uint8Array(0));
    expect(await grpcUnaryCall(tunSocket, devicePluginPaths.options, encodeEmpty())).toEqual(new Uint8Array(0));
    await expect(grpcUnaryCall(tunSocket, "/v1beta1.DevicePlugin/Nope", encodeEmpty())).rejects.toThrow(/gRPC status 12/);
  });

  test("ListAndWatch: 1000 healthy devices, sent again unhealthy when the device node goes and healthy when it is back", async () => {
    const { pluginDir, devRoot } = setUp();
    kubelet = await fakeKubelet(pluginDir, []);
    plugins = startDevicePlugins({ kubeletRoot: join(root, "kubelet"), devRoot, log, readiness: new Readiness(), periodMs: 20 });
    const tunSocket = join(pluginDir, "bunvirt-tun.sock");
    await until("the tun socket", () => readdirSync(pluginDir).includes("bunvirt-tun.sock"));
    const lists: Device[][] = [];
    const w = watch(tunSocket, lists);
    try {
      await until("a first list", () => lists.length === 1);
      expect(lists[0]!.length).toBe(1000);
      expect(lists[0]!.every((d) => d.health === "Healthy")).toBe(true);
      rmSync(join(devRoot, "dev", "net", "tun"));
      await until("a second list", () => lists.length === 2);
      expect(lists[1]!.every((d) => d.health === "Unhealthy")).toBe(true);
      writeFileSync(join(devRoot, "dev", "net", "tun"), "");
      await until("a third list", () => lists.length === 3);
      expect(lists[2]!.every((d) => d.health === "Healthy")).toBe(true);
    } finally {
      w.stop();
    }
  });

  test("a kubelet restart (sockets deleted, a new kubelet.sock) brings a new registration; stop removes our sockets", async () => {
    const { pluginDir, devRoot } = setUp();
    const seen: RegisterRequest[] = [];
    kubelet = await fakeKubelet(pluginDir, seen);
    plugins = startDevicePlugins({ kubeletRoot: join(root, "kubelet"), devRoot, log, readiness: new Readiness(), periodMs: 20 });
    await until("two registrations", () => seen.length === 2);
    await kubelet.close();
    for (const name of readdirSync(pluginDir)) rmSync(join(pluginDir, name), { force: true });
    const again: RegisterRequest[] = [];
    kubelet = await fakeKubelet(pluginDir, again);
    await until("two registrations again", () => again.length === 2);
    await until("both sockets back", () => ["bunvirt-kvm.sock", "bunvirt-tun.sock"].every((s) => readdirSync(pluginDir).includes(s)));
    await plugins.stop();
    plugins = undefined;
    expect(readdirSync(pluginDir).sort()).toEqual(["kubelet.sock"]);
  });

  test("without a kubelet socket readiness says so; a device node that appears later is served", async () => {
    const { pluginDir, devRoot } = setUp();
    rmSync(join(devRoot, "dev", "kvm"));
    const readiness = new Readiness();
    plugins = startDevicePlugins({ kubeletRoot: join(root, "kubelet"), devRoot, log, readiness, periodMs: 20 });
    await until("not ready", () => readiness.reasons().some((r) => r.startsWith("device-plugin tun: no kubelet socket")));
    expect(readiness.reasons().some((r) => r.startsWith("device-plugin kvm"))).toBe(false);
    const seen: RegisterRequest[] = [];
    kubelet = await fakeKubelet(pluginDir, seen);
    await until("tun registered", () => seen.length === 1 && readiness.ready);
    writeFileSync(join(devRoot, "dev", "kvm"), "");
    await until("kvm registered", () => seen.length === 2);
    expect(seen.map((r) => r.resourceName)).toEqual(["devices.kubevirt.io/tun", "devices.kubevirt.io/kvm"]);
  });
});
