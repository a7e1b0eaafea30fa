/**
 * The console client against a local HTTPS/WebSocket server standing in for
 * the API server (tests/lib/api-stand-in.ts): the upgrade's path, subprotocol
 * and token, bytes both ways, Ctrl-], stdin's EOF, refusals with the Status
 * message, the 400 retry. The real path (kube-apiserver → controller →
 * handler → the launcher's serial socket) is proven by the cluster tier.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeClientCert, type StandIn, startStandIn, status } from "../../../tests/lib/api-stand-in.ts";
import { virtConnection } from "./connection.ts";
import { type ConsoleIo, consoleVmi } from "./console.ts";

interface Upgrade {
  path: string;
  protocol: string | null;
  auth: string | null;
}

let api: StandIn;
const upgrades: Upgrade[] = [];
const received: number[] = [];
let serverClosed: { code: number } | undefined;
let booting = 0;
let closeOnOpen: { code: number; reason: string } | undefined;

beforeAll(async () => {
  api = await startStandIn({
    fetch(req, server) {
      const path = new URL(req.url).pathname;
      const name = path.split("/")[7];
      if (name === "stopped") return status(409, "Conflict", "VMI is not running");
      if (name === "missing") return status(404, "NotFound", 'virtualmachineinstances.kubevirt.io "missing" not found');
      if (name === "secret") return status(403, "Forbidden", 'virtualmachineinstances.subresources.kubevirt.io "secret" is forbidden: User "limited" cannot get resource "virtualmachineinstances/console"');
      // As the controller: the VMI checked, then the upgrade, then the handler asked (which refuses a second console).
      if (name === "inuse") return req.headers.get("upgrade") === "websocket" ? status(409, "Conflict", "Console connection already in use") : status(400, "BadRequest", "the console is a WebSocket");
      if (name === "booting" && req.headers.get("sec-websocket-key") !== null && booting-- > 0) return status(400, "BadRequest", "Unable to connect to VirtualMachineInstance because phase is Scheduling instead of Running");
      upgrades.push({ path, protocol: req.headers.get("sec-websocket-protocol"), auth: req.headers.get("authorization") });
      if (server.upgrade(req, { data: undefined, headers: { "Sec-WebSocket-Protocol": "plain.kubevirt.io" } })) return undefined;
      return status(400, "BadRequest", "expected a WebSocket upgrade");
    },
    websocket: {
      open(ws) {
        if (closeOnOpen !== undefined) return ws.close(closeOnOpen.code, closeOnOpen.reason);
        ws.sendBinary(new TextEncoder().encode("guest login: "));
      },
      message(ws, m) {
        const bytes = typeof m === "string" ? new TextEncoder().encode(m) : new Uint8Array(m);
        for (const b of bytes) received.push(b);
        // The guest's shell echoes what is typed.
        ws.sendBinary(bytes);
      },
      close(_ws, code) {
        serverClosed = { code };
      },
    },
  });
});
afterAll(() => api.stop());

/** A stdin the test feeds: push chunks, then end (EOF) or not. */
function feed(): { stdin: AsyncIterable<Uint8Array>; push(s: string | Uint8Array): void; end(): void } {
  const queue: (Uint8Array | null)[] = [];
  let wake: (() => void) | undefined;
  return {
    push(s) {
      queue.push(typeof s === "string" ? new TextEncoder().encode(s) : s);
      wake?.();
    },
    end() {
      queue.push(null);
      wake?.();
    },
    stdin: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (queue.length === 0) await new Promise<void>((r) => (wake = r));
          const c = queue.shift()!;
          if (c === null) return;
          yield c;
        }
      },
    },
  };
}

function io(stdin: AsyncIterable<Uint8Array>, extra: Partial<ConsoleIo> = {}) {
  const out: number[] = [];
  const err: string[] = [];
  const raw: boolean[] = [];
  const consoleIo: ConsoleIo = {
    stdin,
    stdout: (b) => {
      for (const x of b) out.push(x);
    },
    stderr: (t) => err.push(t),
    drainMs: 300,
    retryMs: 50,
    ...extra,
  };
  return { consoleIo, out: () => new TextDecoder().decode(new Uint8Array(out)), err, raw };
}

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(10);
  }
};

describe("console", () => {
  test("a terminal: raw mode while connected, bytes both ways, Ctrl-] leaves and is not sent", async () => {
    upgrades.length = 0;
    received.length = 0;
    serverClosed = undefined;
    const conn = virtConnection({ kubeconfig: api.kubeconfig(["token: tok"], "team-a") });
    const stdin = feed();
    const t = io(stdin.stdin);
    t.consoleIo.tty = { setRaw: (on) => t.raw.push(on) };
    const done = consoleVmi(conn, "vm1", {}, t.consoleIo);
    await until(() => t.out().includes("guest login: "));
    stdin.push("root\r");
    await until(() => t.out().includes("root\r"));
    stdin.push("ls\rxy\x1dnot sent");
    expect(await done).toBe(0);
    expect(new TextDecoder().decode(new Uint8Array(received))).toBe("root\rls\rxy");
    expect(t.raw).toEqual([true, false]);
    expect(t.err).toEqual(["Successfully connected to vm1 console. Press Ctrl+] or Ctrl+5 to exit console.\n"]);
    expect(upgrades).toEqual([{ path: "/apis/subresources.kubevirt.io/v1/namespaces/team-a/virtualmachineinstances/vm1/console", protocol: "plain.kubevirt.io", auth: "Bearer tok" }]);
    await until(() => serverClosed !== undefined);
    expect(serverClosed!.code).toBe(1000);
  });

  test("stdin not a terminal: copied until EOF, the guest's answer drained after it, exit 0", async () => {
    received.length = 0;
    const conn = virtConnection({ kubeconfig: api.kubeconfig(["token: tok"]) });
    const stdin = feed();
    const t = io(stdin.stdin);
    const done = consoleVmi(conn, "vm1", {}, t.consoleIo);
    stdin.push("echo hello\n");
    stdin.end();
    expect(await done).toBe(0);
    expect(t.out()).toBe("guest login: echo hello\n");
    expect(t.raw).toEqual([]);
  });

  test("a large piped stdin (8 MiB) arrives whole: sent as the socket takes it, EOF then ends", async () => {
    received.length = 0;
    const conn = virtConnection({ kubeconfig: api.kubeconfig(["token: tok"]) });
    const stdin = feed();
    const t = io(stdin.stdin);
    const done = consoleVmi(conn, "vm1", {}, t.consoleIo);
    for (let i = 0; i < 8; i++) stdin.push(new Uint8Array(1024 * 1024).fill(0x41 + i));
    stdin.end();
    expect(await done).toBe(0);
    await until(() => received.length === 8 * 1024 * 1024, 10_000);
    expect(received[0]).toBe(0x41);
    expect(received.at(-1)).toBe(0x48);
  }, 20_000);

  test("a refused upgrade exits 1 with the API server's message (409, 404, 409 from the node, 403)", async () => {
    const conn = virtConnection({ kubeconfig: api.kubeconfig(["token: tok"]) });
    for (const [name, line] of [
      ["stopped", "Can't connect to websocket (409): VMI is not running\n"],
      ["missing", `Can't connect to websocket (404): virtualmachineinstances.kubevirt.io "missing" not found\n`],
      ["inuse", "Can't connect to websocket (409): Console connection already in use\n"],
      ["secret", `Can't connect to websocket (403): virtualmachineinstances.subresources.kubevirt.io "secret" is forbidden: User "limited" cannot get resource "virtualmachineinstances/console"\n`],
    ] as const) {
      const t = io(feed().stdin);
      expect(await consoleVmi(conn, name, {}, t.consoleIo)).toBe(1);
      expect(t.err).toEqual([line]);
    }
  });

  test("400 (not ready yet) is retried as virtctl does, then connects", async () => {
    booting = 3;
    const conn = virtConnection({ kubeconfig: api.kubeconfig(["token: tok"]) });
    const stdin = feed();
    const t = io(stdin.stdin);
    const done = consoleVmi(conn, "booting", {}, t.consoleIo);
    await until(() => t.out().includes("guest login: "));
    expect(booting).toBe(-1);
    stdin.push(new Uint8Array([0x1d]));
    expect(await done).toBe(0);
  });

  test("a signal while it waits for the VMI ends the wait", async () => {
    booting = 1_000_000;
    try {
      const conn = virtConnection({ kubeconfig: api.kubeconfig(["token: tok"]) });
      const stop = new AbortController();
      const t = io(feed().stdin, { stop: stop.signal });
      const done = consoleVmi(conn, "booting", {}, t.consoleIo);
      await Bun.sleep(200);
      stop.abort();
      expect(await done).toBe(1);
      expect(t.err.at(-1)).toMatch(/^Can't connect to websocket(: interrupted| \(400\): Unable to connect)/);
    } finally {
      booting = 0;
    }
  });

  test("the server ending the console abnormally: virtctl's disconnection lines, exit 1", async () => {
    closeOnOpen = { code: 1011, reason: "handler gone" };
    try {
      const conn = virtConnection({ kubeconfig: api.kubeconfig(["token: tok"]) });
      const t = io(feed().stdin);
      expect(await consoleVmi(conn, "vm1", {}, t.consoleIo)).toBe(1);
      expect(t.err[1]).toContain("You were disconnected from the console (code 1011: handler gone)");
    } finally {
      closeOnOpen = undefined;
    }
  });

  test("a signal leaves as Ctrl-] does, raw mode restored", async () => {
    const conn = virtConnection({ kubeconfig: api.kubeconfig(["token: tok"]) });
    const stop = new AbortController();
    const t = io(feed().stdin, { stop: stop.signal });
    t.consoleIo.tty = { setRaw: (on) => t.raw.push(on) };
    const done = consoleVmi(conn, "vm1", {}, t.consoleIo);
    await until(() => t.out().includes("guest login: "));
    stop.abort();
    expect(await done).toBe(0);
    expect(t.raw).toEqual([true, false]);
  });

  test("wss with the kubeconfig's client certificate (the server requires one signed by its client CA)", async () => {
    const client = await makeClientCert(api.dir, "bob");
    const strict = await startStandIn({
      clientCaPem: client.caPem,
      fetch: (req, server) => (server.upgrade(req, { data: undefined, headers: { "Sec-WebSocket-Protocol": "plain.kubevirt.io" } }) ? undefined : status(400, "BadRequest", "no upgrade")),
      websocket: { open: (ws) => void ws.sendBinary(new TextEncoder().encode("hello")), message() {} },
    });
    try {
      const stdin = feed();
      const t = io(stdin.stdin);
      const done = consoleVmi(virtConnection({ kubeconfig: strict.kubeconfig([`client-certificate: ${client.certFile}`, `client-key: ${client.keyFile}`]) }), "vm1", {}, t.consoleIo);
      await until(() => t.out() === "hello");
      stdin.push(new Uint8Array([0x1d]));
      expect(await done).toBe(0);
      const without = io(feed().stdin);
      expect(await consoleVmi(virtConnection({ kubeconfig: strict.kubeconfig(["token: t"]) }), "vm1", {}, without.consoleIo)).toBe(1);
      expect(without.err[0]).toStartWith("Can't connect to websocket: ");
    } finally {
      await strict.stop();
    }
  });

  test("an API server that is not there: exit 1 naming why", async () => {
    const conn = virtConnection({ kubeconfig: api.kubeconfig(["token: tok"]) });
    conn.server = "https://127.0.0.1:1";
    const t = io(feed().stdin);
    expect(await consoleVmi(conn, "vm1", {}, t.consoleIo)).toBe(1);
    expect(t.err[0]).toStartWith("Can't connect to websocket: ");
  });
});
