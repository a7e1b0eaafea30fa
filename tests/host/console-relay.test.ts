/**
 * The handler's console relay on real parts: the test guest boots under the
 * real launcher (`compiled/bunvirt run --console off`, TCG, no network) with
 * its state directory inside a kubelet-style pod directory
 * `<kubelet>/pods/<uid>/volumes/kubernetes.io~empty-dir/bunvirt-state`
 * (bind-mounted at a short path for the launcher, as the kubelet mounts the
 * emptyDir into the container: the node's path is longer than a socket
 * address may be). The handler's console server (src/roles/handler/
 * console-server.ts) finds `console/serial0` there as the handler does
 * (safeConsoleSocket + connectConsoleSocket), behind mutual TLS with a test
 * CA's client certificate for `bunvirt-controller`:
 *
 * - the guest's serial output arrives through the relay, and a line typed
 *   comes back echoed (the guest's serial tty echoes);
 * - a second console for the same VMI takes over, as KubeVirt's handler:
 *   the first is closed and the second works (QEMU takes the socket's next client);
 * - a serial0 planted as a symlink, or a console directory that is one, is
 *   refused and the socket it points to outside gets no connection;
 * - a client without a certificate, with another CA's, or with another name
 *   gets no byte.
 *
 *   flock /tmp/bunvirt-host.lock bun test --timeout 900000 ./tests/host/console-relay.test.ts
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { makeWebhookCerts } from "../../src/roles/controller/webhook-certs.ts";
import { makeLogger } from "../../src/log/logger.ts";
import { certificateSha256, ConsoleServer, type ConsoleLookup, type ConsoleRequest } from "../../src/roles/handler/console-server.ts";
import { connectConsoleSocket } from "../../src/roles/handler/console-socket.ts";
import { safeConsoleSocket } from "../../src/roles/handler/launcher-socket.ts";
import { bunvirtCommand, repoRoot } from "../lib/bunvirt.ts";
import { dialTls, drain, openConsole, waitFor } from "../lib/console-client.ts";
import { built, command, hostTier, root } from "../lib/host.ts";
import { makeTestCa, makeTestClientCert } from "../lib/test-pki.ts";
import { guestRegistry, type GuestRegistry } from "./fixtures/run/local-run.ts";

const skip = hostTier("console relay", [
  root,
  built(join(repoRoot, "compiled/bunvirt"), "bun run build"),
  command("libvirtd", "libvirt-daemon"),
  command("libvirt-dbus", "libvirt-dbus"),
  command("qemu-system-x86_64", "qemu-system-x86"),
  command("docker-registry", "docker-registry"),
  command("skopeo", "skopeo"),
  command("openssl", "openssl"),
  command("mount", "mount"),
]);

const podUid = "c0150e00-1111-2222-3333-444455556666";
const symlinkPodUid = "c0150e01-1111-2222-3333-444455556666";
const dirLinkPodUid = "c0150e02-1111-2222-3333-444455556666";
const vmiUid = "7e570000-aaaa-bbbb-cccc-ddddeeeeffff";
const request: ConsoleRequest = { namespace: "default", name: "consolevm", uid: vmiUid };
const vmi = {
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name: "consolevm", namespace: "default", uid: vmiUid },
  spec: {
    terminationGracePeriodSeconds: 5,
    domain: { memory: { guest: "128Mi" }, devices: { disks: [{ name: "containerdisk", disk: { bus: "virtio" } }] } },
    volumes: [{ name: "containerdisk", containerDisk: { image: "kubevirt/cirros-registry-disk-demo:devel" } }],
  },
};

describe.skipIf(skip !== null)("console relay: handler server to a real launcher's serial console (host)", () => {
  const dir = skip === null ? realpathSync(mkdtempSync("/tmp/bvc-")) : "/nonexistent";
  const kubeletRoot = join(dir, "kubelet");
  const emptyDirs = (uid: string): string => join(kubeletRoot, "pods", uid, "volumes", "kubernetes.io~empty-dir");
  const stateOnNode = join(emptyDirs(podUid), "bunvirt-state");
  const stateMount = join(dir, "st");
  const outside = join(dir, "outside");
  const log = makeLogger({ role: "handler", format: "text", level: "warn", write: (l) => console.error(l) });
  const ca = makeTestCa();
  let registry: GuestRegistry | undefined;
  let run: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined;
  let runLog = "";
  let mounted = false;
  let server: ConsoleServer;
  let victim: Server;
  let victimConnections = 0;
  let port = 0;
  let sha256 = "";
  const good = makeTestClientCert(ca, "bunvirt-controller");

  const lookup = (r: ConsoleRequest): ConsoleLookup => {
    const uidOfPod = r.name === "consolevm" ? podUid : r.name === "symlinked" ? symlinkPodUid : dirLinkPodUid;
    return { ok: true, uid: r.uid, connect: async () => connectConsoleSocket(safeConsoleSocket(kubeletRoot, uidOfPod)) };
  };
  const dial = (cert?: { certPem: string; keyPem: string }) => ({ host: "127.0.0.1", port, sha256, ...(cert !== undefined ? { cert } : {}) });

  beforeAll(async () => {
    chmodSync(dir, 0o755); // QEMU (libvirt-qemu) reaches the state through it
    mkdirSync(stateOnNode, { recursive: true });
    mkdirSync(stateMount);
    for (let p = stateOnNode; p !== dir; p = join(p, "..")) chmodSync(p, 0o755);
    const m = Bun.spawnSync(["mount", "--bind", stateOnNode, stateMount]);
    if (m.exitCode !== 0) throw new Error(`mount --bind: ${m.stderr.toString()}`);
    mounted = true;
    // What a planted symlink points at: a socket outside every pod, counting who connects.
    mkdirSync(join(outside, "console"), { recursive: true });
    victim = createServer((s) => {
      victimConnections++;
      s.destroy();
    });
    await new Promise<void>((r) => victim.listen(join(outside, "console", "serial0"), r));
    mkdirSync(join(emptyDirs(symlinkPodUid), "bunvirt-state", "console"), { recursive: true });
    symlinkSync(join(outside, "console", "serial0"), join(emptyDirs(symlinkPodUid), "bunvirt-state", "console", "serial0"));
    mkdirSync(join(emptyDirs(dirLinkPodUid), "bunvirt-state"), { recursive: true });
    symlinkSync(join(outside, "console"), join(emptyDirs(dirLinkPodUid), "bunvirt-state", "console"));

    const certs = await makeWebhookCerts({ dnsNames: ["bunvirt-handler"], ips: ["127.0.0.1"] });
    sha256 = certificateSha256(new Uint8Array(Buffer.from(certs.certPem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64")));
    server = new ConsoleServer({ host: "127.0.0.1", port: 0, certPem: certs.certPem, keyPem: certs.keyPem, clientCaPem: ca.certPem, lookup, log });
    port = await server.listen();

    registry = await guestRegistry(join(dir, "registry"));
    const manifest = join(dir, "vmi.json");
    writeFileSync(manifest, JSON.stringify(vmi));
    run = Bun.spawn(
      [...bunvirtCommand(), "run", manifest, "--emulation", "--network", "none", "--console", "off", "--state-dir", stateMount,
        "--registry", registry.address, "--insecure-registry", registry.address, "--cache-dir", join(dir, "cache")],
      { stdout: "pipe", stderr: "pipe", stdin: "ignore" },
    );
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of run!.stderr) runLog += dec.decode(chunk);
    })();
    void new Response(run.stdout).text();
    const deadline = Date.now() + 180_000;
    while (!existsSync(join(stateOnNode, "console", "serial0"))) {
      if (run.exitCode !== null) throw new Error(`bunvirt run exited ${run.exitCode}:\n${runLog.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`no serial0 after 180 s:\n${runLog.slice(-3000)}`);
      await Bun.sleep(200);
    }
  }, 400_000);

  afterAll(async () => {
    await server?.stop();
    victim?.close();
    if (run !== undefined && run.exitCode === null) {
      run.kill("SIGTERM");
      await Promise.race([run.exited, Bun.sleep(30_000)]);
      if (run.exitCode === null) run.kill("SIGKILL");
    }
    await registry?.stop();
    if (mounted) Bun.spawnSync(["umount", stateMount]);
    if (skip === null) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  test("the guest's serial output arrives, a typed line is echoed, a second console takes over from the first", async () => {
    const t0 = Date.now();
    const c = await openConsole(dial(good), request);
    expect(c.reply).toEqual({ ok: true });
    const seen = { text: c.rest.toString() };
    // Boot lines as the guest prints them (whatever part of the boot is left when we connect).
    await waitFor(c.socket, "bunvirt-guest: ready", 240_000, seen);
    console.log(`console: guest ready seen through the relay ${Date.now() - t0} ms after connecting`);
    const token = `typed-${Date.now()}`;
    c.socket.write(`${token}\r`);
    await waitFor(c.socket, token, 15_000, seen);

    // One console per VMI, as KubeVirt's handler: a second one takes over and the first is closed.
    const second = await openConsole(dial(good), request);
    expect(second.reply).toEqual({ ok: true });
    if (!c.socket.destroyed) await drain(c.socket, 5000);
    expect(c.socket.readableEnded).toBe(true);
    const token2 = `again-${Date.now()}`;
    second.socket.write(`${token2}\r`);
    await waitFor(second.socket, token2, 15_000, { text: second.rest.toString() });
    second.socket.destroy();
    // The whole exchange is in QEMU's own log of the serial port as well.
    expect(readFileSync(join(stateOnNode, "console", "serial0.log"), "utf8")).toContain(token);
  }, 300_000);

  test("a serial0 planted as a symlink, or a console directory that is one, is refused; the socket outside gets nothing", async () => {
    for (const name of ["symlinked", "dirlinked"]) {
      const c = await openConsole(dial(good), { namespace: "default", name, uid: "0badc0de-0000-0000-0000-000000000000" });
      expect(c.reply).toEqual({ ok: false, code: 500, message: `Cannot reach the serial console of VMI "default/${name}"` });
      await drain(c.socket);
    }
    expect(() => safeConsoleSocket(kubeletRoot, symlinkPodUid)).toThrow("is a symlink");
    expect(() => safeConsoleSocket(kubeletRoot, dirLinkPodUid)).toThrow("is a symlink");
    expect(victimConnections).toBe(0);
  });

  test("no client certificate, another CA's, or another name: no byte", async () => {
    const otherCa = makeTestClientCert(makeTestCa("other-ca"), "bunvirt-controller");
    const wrongName = makeTestClientCert(ca, "system:admin");
    for (const [label, cert] of [["none", undefined], ["other CA", otherCa], ["other name", wrongName]] as const) {
      const result = await dialTls(dial(cert)).then(
        async (s) => {
          s.write(`${JSON.stringify(request)}\n`);
          return drain(s);
        },
        (e: Error) => ({ bytes: Buffer.alloc(0), error: e.message }),
      );
      expect({ label, bytes: result.bytes.length }).toEqual({ label, bytes: 0 });
    }
    expect(server.openConsoles).toBe(0);
  });
});
