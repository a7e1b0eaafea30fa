/**
 * The client commands as users run them: the compiled executable, also
 * under the kubectl plugin's name kubectl-virt, against a local HTTPS server
 * standing in for the API server (tests/lib/api-stand-in.ts; the real path
 * is the cluster tier's). The console runs on a real pseudo-terminal
 * (script(1)): raw mode (a key reaches the guest without Enter), Ctrl-]
 * leaves, the terminal's settings are back afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunvirtCommand, runBunvirt } from "../lib/bunvirt.ts";
import { type StandIn, startStandIn, status } from "../lib/api-stand-in.ts";
import { virtctlPath, virtctlSkip } from "../lib/virtctl.ts";

const dir = mkdtempSync(join(tmpdir(), "bunvirt-virt-bin-"));
let api: StandIn;
const received: number[] = [];
const virtctl = virtctlPath;
const noVirtctl = virtctlSkip("binary virt");
const puts: { path: string; body: string }[] = [];

beforeAll(async () => {
  api = await startStandIn({
    fetch(req, server) {
      const path = new URL(req.url).pathname;
      if (path.includes("/namespaces/cmp/")) {
        // The comparison with virtctl: recorded, then answered by name.
        return req.text().then((body) => {
          puts.push({ path, body });
          if (path.endsWith("/stopped/stop")) return status(409, "Conflict", 'Operation cannot be fulfilled on virtualmachine.kubevirt.io "stopped": VM is not running');
          if (path.endsWith("/broken/start")) return new Response("boom", { status: 500 });
          return new Response(null, { status: 202 });
        });
      }
      if (path.endsWith("/virtualmachines/gone/stop")) return status(404, "NotFound", 'virtualmachines.kubevirt.io "gone" not found');
      if (path.endsWith("/stop")) return new Response(null, { status: 202 });
      if (server.upgrade(req, { data: undefined, headers: { "Sec-WebSocket-Protocol": "plain.kubevirt.io" } })) return undefined;
      return status(400, "BadRequest", "expected a WebSocket upgrade");
    },
    websocket: {
      open(ws) {
        ws.sendBinary(new TextEncoder().encode("guest login: "));
      },
      message(ws, m) {
        const bytes = typeof m === "string" ? new TextEncoder().encode(m) : new Uint8Array(m);
        received.push(...bytes);
        ws.sendBinary(bytes);
      },
    },
  });
});
afterAll(() => api.stop());

describe("bunvirt's client, compiled", () => {
  test("named kubectl-virt it is the kubectl plugin: kubectl-virt --help", async () => {
    const plugin = join(dir, "kubectl-virt");
    symlinkSync(bunvirtCommand()[0]!, plugin);
    const p = Bun.spawnSync([plugin, "--help"]);
    expect(p.exitCode).toBe(0);
    expect(p.stdout.toString()).toContain("kubectl virt console NAME [-n NS]");
    const kubectl = Bun.which("kubectl");
    if (kubectl !== null) {
      // Spawned, not spawnSync: the stand-in answers from this process.
      const k = Bun.spawn([kubectl, "virt", "stop", "vm1", "--kubeconfig", api.kubeconfig(["token: t"])], { stdout: "pipe", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
      expect(await new Response(k.stdout).text()).toBe("VM vm1 was scheduled to stop\n");
      expect(await k.exited).toBe(0);
    }
  }, 20_000);

  test("stop: virtctl's line, and the API server's message with exit 1 when refused", async () => {
    const kc = api.kubeconfig(["token: t"]);
    expect(await runBunvirt(["stop", "vm1", "--kubeconfig", kc])).toEqual({ code: 0, stdout: "VM vm1 was scheduled to stop\n", stderr: "" });
    expect(await runBunvirt(["stop", "gone", "--kubeconfig", kc])).toEqual({ code: 1, stdout: "", stderr: 'error stopping VirtualMachine virtualmachines.kubevirt.io "gone" not found\n' });
    expect((await runBunvirt(["stop", "vm1", "--force"])).code).toBe(2);
  });

  test("console on a terminal: raw mode, bytes both ways, Ctrl-] leaves with exit 0, the terminal restored", async () => {
    received.length = 0;
    const kc = api.kubeconfig(["token: t"]);
    const inner = `stty -g > ${dir}/before; ${bunvirtCommand()[0]} console vm1 --kubeconfig ${kc}; echo "exit=$?" > ${dir}/code; stty -g > ${dir}/after`;
    const p = Bun.spawn(["script", "-qec", inner, "/dev/null"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    const output: string[] = [];
    void (async () => {
      for await (const c of p.stdout) output.push(new TextDecoder().decode(c));
    })();
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 500 && !cond(); i++) await Bun.sleep(20);
      expect(cond()).toBe(true);
    };
    await until(() => output.join("").includes("guest login: "));
    // No Enter: only a terminal in raw mode passes "ab" on at once.
    p.stdin.write("ab");
    p.stdin.flush();
    await until(() => received.length >= 2);
    p.stdin.write("\x1d");
    p.stdin.flush();
    await Promise.race([p.exited, Bun.sleep(10_000)]);
    p.stdin.end();
    expect(await p.exited).toBe(0);
    expect(new TextDecoder().decode(new Uint8Array(received))).toBe("ab");
    expect(output.join("")).toContain("Successfully connected to vm1 console. Press Ctrl+] or Ctrl+5 to exit console.");
    expect(readFileSync(`${dir}/code`, "utf8")).toBe("exit=0\n");
    expect(readFileSync(`${dir}/after`, "utf8")).toBe(readFileSync(`${dir}/before`, "utf8"));
  }, 30_000);

  test("console on a terminal ended by SIGTERM: the terminal restored, exit 0", async () => {
    const kc = api.kubeconfig(["token: t"]);
    const inner = `stty -g > ${dir}/before2; ${bunvirtCommand()[0]} console vm1 --kubeconfig ${kc}; echo "exit=$?" > ${dir}/code2; stty -g > ${dir}/after2`;
    const p = Bun.spawn(["script", "-qec", inner, "/dev/null"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    const output: string[] = [];
    void (async () => {
      for await (const c of p.stdout) output.push(new TextDecoder().decode(c));
    })();
    for (let i = 0; i < 500 && !output.join("").includes("guest login: "); i++) await Bun.sleep(20);
    // The console's own process: the one whose command line names this kubeconfig.
    const pid = Bun.spawnSync(["pgrep", "-f", `console vm1 --kubeconfig ${kc}$`]).stdout.toString().trim().split("\n").map(Number).find((n) => n > 0 && n !== p.pid);
    expect(pid).toBeDefined();
    process.kill(pid!, "SIGTERM");
    await Promise.race([p.exited, Bun.sleep(10_000)]);
    p.stdin.end();
    expect(await p.exited).toBe(0);
    expect(readFileSync(`${dir}/code2`, "utf8")).toBe("exit=0\n");
    expect(readFileSync(`${dir}/after2`, "utf8")).toBe(readFileSync(`${dir}/before2`, "utf8"));
  }, 30_000);

  test.skipIf(noVirtctl !== null)("the same requests, lines and exit codes as KubeVirt's virtctl v1.6.0", async () => {
    const kc = api.kubeconfig(["token: t"], "cmp");
    const run = async (argv: string[]) => {
      const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      // virtctl adds a line of its own after a failure (its client/server version check asks .../version).
      return { code, stdout, lastErr: stderr.trimEnd().split("\n").at(-1) ?? "" };
    };
    for (const args of [
      ["stop", "vm1"], ["start", "vm1"], ["restart", "vm1"], ["start", "vm1", "--paused"], ["stop", "vm1", "--force", "--grace-period", "0"],
      ["restart", "vm1", "--force", "--grace-period=30"], ["stop", "vm1", "--dry-run"], ["stop", "stopped"], ["start", "broken"],
    ]) {
      puts.length = 0;
      const theirs = await run([virtctl, "--kubeconfig", kc, ...args]);
      const theirPuts = [...puts];
      puts.length = 0;
      const ours = await run([...bunvirtCommand(), ...args, "--kubeconfig", kc]);
      expect({ args, ...ours, puts }).toEqual({ args, ...theirs, puts: theirPuts });
    }
  }, 60_000);

  test("console with stdin a pipe: a line goes to the guest and its echo comes back, EOF ends it", async () => {
    received.length = 0;
    const r = await runBunvirt(["console", "vm1", "--kubeconfig", api.kubeconfig(["token: t"])], { stdin: "echo hi\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("guest login: echo hi\n");
    expect(new TextDecoder().decode(new Uint8Array(received))).toBe("echo hi\n");
  }, 20_000);
});
