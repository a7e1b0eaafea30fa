/**
 * The informer against a scripted HTTP server speaking the API server's list
 * and watch protocol over a real socket. The server is scripted because the
 * faults tested here (410 Gone at a chosen moment, an oversized event line)
 * cannot be provoked on demand from a real kube-apiserver; the control-plane
 * tier runs the informer against the real one.
 */
import { afterEach, expect, test } from "bun:test";
import { Informer, type KubeObject } from "./informer.ts";

type Reply = (url: URL) => Response;

const obj = (name: string, rv: string, extra: Record<string, unknown> = {}): KubeObject => ({ metadata: { name, namespace: "ns", resourceVersion: rv }, ...extra });
const line = (type: string, o: unknown): string => `${JSON.stringify({ type, object: o })}\n`;
const list = (rv: string, items: KubeObject[], cont?: string): Response =>
  Response.json({ kind: "ThingList", metadata: { resourceVersion: rv, ...(cont !== undefined ? { continue: cont } : {}) }, items });
const stream = (text: string): Response => new Response(text);
/** A watch that stays open until the informer stops. */
const hang = (text: string): Response =>
  new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode(text)) }));

let servers: ReturnType<typeof Bun.serve>[] = [];
let informers: Informer<KubeObject>[] = [];
afterEach(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  for (const s of servers) await s.stop(true);
  servers = [];
  informers = [];
});

/** Serves the replies in order; records each request's URL. */
function script(replies: Reply[]): { urls: URL[]; base: string } {
  const urls: URL[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      const url = new URL(req.url);
      urls.push(url);
      const reply = replies.shift();
      return reply === undefined ? hang("") : reply(url);
    },
  });
  servers.push(server);
  return { urls, base: `http://127.0.0.1:${server.port}` };
}

function start(base: string, log: string[] = []): { informer: Informer<KubeObject>; events: string[] } {
  const events: string[] = [];
  const informer = new Informer<KubeObject>({
    path: "/apis/x.io/v1/things",
    fetch: (path, init) => fetch(base + path, init),
    apiVersion: "x.io/v1",
    kind: "Thing",
    labelSelector: "app=a",
    fieldSelector: "spec.nodeName=n1",
    pageSize: 1,
    maxLineBytes: 4096,
    log: (m) => log.push(m),
    onAdd: (o) => events.push(`add ${o.metadata.name} ${o.metadata.resourceVersion}`),
    onUpdate: (_, o) => events.push(`update ${o.metadata.name} ${o.metadata.resourceVersion}`),
    onDelete: (o) => events.push(`delete ${o.metadata.name}`),
  });
  informers.push(informer);
  informer.start();
  return { informer, events };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await Bun.sleep(10);
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

test("lists page by page, then watches from the list's version: adds, updates, deletes, bookmarks", async () => {
  const { urls, base } = script([
    () => list("10", [obj("a", "5")], "next"),
    () => list("11", [obj("b", "6")]),
    () => stream(line("ADDED", { metadata: { ...obj("c", "12").metadata, managedFields: [{ manager: "kubectl" }] } }) + line("MODIFIED", obj("a", "13")) + line("BOOKMARK", { metadata: { resourceVersion: "20" } }) + line("DELETED", obj("b", "14"))),
    () => hang(""),
  ]);
  const { informer, events } = start(base);
  await informer.synced;
  await until("the second watch", () => urls.length >= 4);
  expect(events).toEqual(["add a 5", "add b 6", "add c 12", "update a 13", "delete b"]);
  expect(informer.list().map((o) => o.metadata.name).sort()).toEqual(["a", "c"]);
  // Kind and apiVersion filled in on items that came without them.
  expect(informer.get("ns/a")).toMatchObject({ apiVersion: "x.io/v1", kind: "Thing" });
  // Not cached: managedFields.
  expect(informer.list().some((o) => "managedFields" in o.metadata)).toBe(false);
  expect(urls[1]!.searchParams.get("continue")).toBe("next");
  expect(urls[0]!.searchParams.get("labelSelector")).toBe("app=a");
  expect(urls[2]!.searchParams.get("fieldSelector")).toBe("spec.nodeName=n1");
  const watch = urls[2]!.searchParams;
  expect([watch.get("watch"), watch.get("resourceVersion"), watch.get("allowWatchBookmarks")]).toEqual(["1", "11", "true"]);
  // Reopened from the last version seen: the DELETED event's.
  expect(urls[3]!.searchParams.get("resourceVersion")).toBe("14");
});

test("410 Gone on the watch relists: what vanished meanwhile is a delete, what changed an update", async () => {
  const { urls, base } = script([
    () => list("10", [obj("a", "5"), obj("b", "6")]),
    () => new Response(JSON.stringify({ kind: "Status", code: 410 }), { status: 410 }),
    () => list("30", [obj("a", "25"), obj("d", "26")]),
    () => hang(""),
  ]);
  const log: string[] = [];
  const { informer, events } = start(base, log);
  await until("the watch after the relist", () => urls.length >= 4);
  expect(events).toEqual(["add a 5", "add b 6", "delete b", "update a 25", "add d 26"]);
  expect(informer.size).toBe(2);
  expect(urls[3]!.searchParams.get("resourceVersion")).toBe("30");
  expect(log.join("\n")).toContain("410 Gone");
});

test("an ERROR event with code 410 inside the stream relists too", async () => {
  const { urls, base } = script([
    () => list("10", [obj("a", "5")]),
    () => stream(line("ERROR", { kind: "Status", code: 410, message: "too old resource version: 10 (40)" })),
    () => list("40", []),
    () => hang(""),
  ]);
  const { events } = start(base);
  await until("the watch after the relist", () => urls.length >= 4);
  expect(events).toEqual(["add a 5", "delete a"]);
  expect(urls[2]!.searchParams.get("watch")).toBeNull();
});

test("an event line over the size cap is an error, not buffered: the watch is dropped and reopened", async () => {
  const { urls, base } = script([
    () => list("10", []),
    () => hang(line("ADDED", obj("big", "11", { data: "x".repeat(10_000) }))),
    () => hang(""),
  ]);
  const log: string[] = [];
  const { informer } = start(base, log);
  await until("a new watch", () => urls.length >= 3);
  expect(informer.size).toBe(0);
  expect(log.join("\n")).toContain("an event line is over 4096 bytes");
});

test("a line that never ends is dropped once it passes the cap", async () => {
  const { urls, base } = script([
    () => list("10", []),
    () => hang(`{"type":"ADDED","object":{"metadata":{"name":"x"},"data":"${"y".repeat(5000)}`),
    () => hang(""),
  ]);
  const log: string[] = [];
  start(base, log);
  await until("a new watch", () => urls.length >= 3);
  expect(log.join("\n")).toContain("an event line is over 4096 bytes");
});
