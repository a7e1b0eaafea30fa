/**
 * start/stop/restart against a local HTTPS server standing in for the API
 * server (tests/lib/api-stand-in.ts): the path, body and credentials sent,
 * and virtctl's lines for acceptance and refusal. The real path through
 * kube-apiserver and the controller is proven by the cluster tier.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeClientCert, type StandIn, startStandIn, status } from "../../../tests/lib/api-stand-in.ts";
import { UsageError } from "../usage.ts";
import { virtConnection } from "./connection.ts";
import { parseVirtArgs } from "./flags.ts";
import { restartFlags, restartVm } from "./restart.ts";
import { startFlags, startVm } from "./start.ts";
import { stopFlags, stopVm } from "./stop.ts";

interface Seen {
  method: string;
  path: string;
  auth: string | null;
  type: string | null;
  body: unknown;
}

let api: StandIn;
const seen: Seen[] = [];
let answer: () => Response = () => new Response(null, { status: 202 });

beforeAll(async () => {
  api = await startStandIn({
    async fetch(req) {
      const u = new URL(req.url);
      seen.push({ method: req.method, path: u.pathname, auth: req.headers.get("authorization"), type: req.headers.get("content-type"), body: await req.json().catch(() => "not json") });
      return answer();
    },
  });
});
afterAll(() => api.stop());

async function run(cmd: "start" | "stop" | "restart", args: string[], kubeconfig: string) {
  const flags = { start: startFlags, stop: stopFlags, restart: restartFlags }[cmd];
  const parsed = parseVirtArgs(cmd, [...args, "--kubeconfig", kubeconfig], flags);
  if (parsed === "help") throw new Error("help");
  const conn = virtConnection({ kubeconfig: parsed.kubeconfig, namespace: parsed.namespace });
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  const fn = { start: startVm, stop: stopVm, restart: restartVm }[cmd];
  const code = await fn(conn, parsed.name, parsed.values, io);
  return { code, out, err };
}

describe("start, stop, restart", () => {
  test("each PUTs KubeVirt's options to the subresource in the context's namespace with the token, and prints virtctl's line", async () => {
    seen.length = 0;
    answer = () => new Response(null, { status: 202 });
    const kc = api.kubeconfig(["token: secret-token"], "team-a");
    expect(await run("start", ["vm1"], kc)).toEqual({ code: 0, out: ["VM vm1 was scheduled to start"], err: [] });
    expect(await run("stop", ["vm1"], kc)).toEqual({ code: 0, out: ["VM vm1 was scheduled to stop"], err: [] });
    expect(await run("restart", ["vm1", "-n", "other"], kc)).toEqual({ code: 0, out: ["VM vm1 was scheduled to restart"], err: [] });
    const base = "/apis/subresources.kubevirt.io/v1/namespaces";
    expect(seen).toEqual([
      { method: "PUT", path: `${base}/team-a/virtualmachines/vm1/start`, auth: "Bearer secret-token", type: "application/json", body: {} },
      { method: "PUT", path: `${base}/team-a/virtualmachines/vm1/stop`, auth: "Bearer secret-token", type: "application/json", body: {} },
      { method: "PUT", path: `${base}/other/virtualmachines/vm1/restart`, auth: "Bearer secret-token", type: "application/json", body: {} },
    ]);
  });

  test("flags become KubeVirt's fields: paused, gracePeriod (stop), gracePeriodSeconds (restart), dryRun", async () => {
    seen.length = 0;
    const kc = api.kubeconfig(["token: t"]);
    await run("start", ["vm1", "--paused"], kc);
    await run("stop", ["vm1", "--grace-period", "0", "--force"], kc);
    await run("restart", ["vm1", "--grace-period=30", "--force=true"], kc);
    const dry = await run("stop", ["vm1", "--dry-run"], kc);
    expect(dry.out).toEqual(["Dry Run execution", "VM vm1 was scheduled to stop"]);
    expect(seen.map((s) => [s.path.split("/").slice(5).join("/"), s.body])).toEqual([
      ["default/virtualmachines/vm1/start", { paused: true }],
      ["default/virtualmachines/vm1/stop", { gracePeriod: 0 }],
      ["default/virtualmachines/vm1/restart", { gracePeriodSeconds: 30 }],
      ["default/virtualmachines/vm1/stop", { dryRun: ["All"] }],
    ]);
  });

  test("--grace-period without --force (or the reverse) is refused before any request, with virtctl's sentence", async () => {
    seen.length = 0;
    const kc = api.kubeconfig(["token: t"]);
    await expect(run("stop", ["vm1", "--grace-period", "0"], kc)).rejects.toThrow(new UsageError("Must both use --force=true and set --grace-period."));
    await expect(run("restart", ["vm1", "--force"], kc)).rejects.toThrow("Must both use --force=true and set --grace-period.");
    await expect(run("stop", ["vm1", "--grace-period=-1", "--force"], kc)).rejects.toThrow('--grace-period "-1" is not a whole number of seconds');
    expect(seen).toEqual([]);
  });

  test("a refusal prints the Status message behind virtctl's prefix, exit 1", async () => {
    const kc = api.kubeconfig(["token: t"]);
    answer = () => status(409, "Conflict", 'Operation cannot be fulfilled on virtualmachine.kubevirt.io "vm1": VM is not running');
    expect(await run("stop", ["vm1"], kc)).toEqual({ code: 1, out: [], err: ['error stopping VirtualMachine Operation cannot be fulfilled on virtualmachine.kubevirt.io "vm1": VM is not running'] });
    answer = () => status(409, "Conflict", 'Operation cannot be fulfilled on virtualmachine.kubevirt.io "vm1": VM is already running');
    expect((await run("start", ["vm1"], kc)).err).toEqual(['Error starting VirtualMachine Operation cannot be fulfilled on virtualmachine.kubevirt.io "vm1": VM is already running']);
    const forbidden = 'virtualmachines.subresources.kubevirt.io "vm1" is forbidden: User "limited" cannot update resource "virtualmachines/restart" in API group "subresources.kubevirt.io" in the namespace "default"';
    answer = () => status(403, "Forbidden", forbidden);
    expect((await run("restart", ["vm1"], kc)).err).toEqual([`error restarting VirtualMachine: ${forbidden}`]);
    expect((await run("restart", ["vm1", "--force", "--grace-period", "0"], kc)).err).toEqual([`error force restarting VirtualMachine: ${forbidden}`]);
    answer = () => new Response("404 page not found", { status: 404 });
    expect((await run("start", ["vm1"], kc)).err).toEqual(["Error starting VirtualMachine the server could not find the requested resource (put virtualmachines.kubevirt.io vm1)"]);
    answer = () => new Response("x".repeat(200_000), { status: 500 });
    const long = (await run("start", ["vm1"], kc)).err[0]!;
    expect(long).toStartWith('Error starting VirtualMachine an error on the server ("xxx');
    expect(long.length).toBeLessThan(700);
  });

  test("a client certificate from the kubeconfig is presented (the server requires one signed by its client CA)", async () => {
    const client = await makeClientCert(api.dir, "alice");
    const strict = await startStandIn({ clientCaPem: client.caPem, fetch: () => new Response(null, { status: 202 }) });
    try {
      const withCert = strict.kubeconfig([`client-certificate: ${client.certFile}`, `client-key: ${client.keyFile}`]);
      expect(await run("start", ["vm1"], withCert)).toEqual({ code: 0, out: ["VM vm1 was scheduled to start"], err: [] });
      const without = await run("start", ["vm1"], strict.kubeconfig(["token: t"]));
      expect(without.code).toBe(1);
      expect(without.err[0]).toStartWith(`Error starting VirtualMachine Put "${strict.url}/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachines/vm1/start": `);
    } finally {
      await strict.stop();
    }
  });

  test("one name is required; a name too long is refused by name of the rule", () => {
    expect(() => parseVirtArgs("stop", [], stopFlags)).toThrow("stop takes one name, got none");
    expect(() => parseVirtArgs("stop", ["a", "b"], stopFlags)).toThrow('stop takes one name, got "a b"');
    expect(() => parseVirtArgs("stop", ["x".repeat(254)], stopFlags)).toThrow("the name must be 1 to 253 characters");
    expect(parseVirtArgs("stop", ["--help"], stopFlags)).toBe("help");
  });
});
