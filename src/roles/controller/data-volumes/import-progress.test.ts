import { expect, test } from "bun:test";
import { makeLogger } from "../../../log/logger.ts";
import { ImportProgress, importerLogPath, type PodRef } from "./import-progress.ts";

// The API server's pods/log is played by a function: the unit tier has no kubelet
// (the cluster tier reads a real importer's log).
function harness(logs: Map<string, string | number>) {
  const lines: string[] = [];
  const paths: string[] = [];
  const changed: string[] = [];
  let running: PodRef[] = [{ namespace: "ns", name: "importer-a" }, { namespace: "ns", name: "importer-b" }];
  const p = new ImportProgress({
    send: async (path) => {
      paths.push(path);
      const name = /pods\/([^/]+)\/log/.exec(path)![1]!;
      const body = logs.get(name) ?? "";
      return typeof body === "number" ? new Response("no logs", { status: body }) : new Response(body);
    },
    running: () => running,
    onChange: (r) => changed.push(r.name),
    log: makeLogger({ role: "test", write: (l) => lines.push(l) }),
  });
  return { p, lines, paths, changed, setRunning: (r: PodRef[]) => (running = r) };
}

test("the log path asks the API server for the importer container's last 20 lines, at most 4 KiB", () => {
  expect(importerLogPath({ namespace: "ns", name: "importer-a" })).toBe("/api/v1/namespaces/ns/pods/importer-a/log?container=importer&tailLines=20&limitBytes=4096");
});

test("a changed percent is kept and reported once; a failing log is warned about once; gone pods are forgotten", async () => {
  const logs = new Map<string, string | number>([["importer-a", "progress: 10.00% (transfer)\n"], ["importer-b", 502]]);
  const h = harness(logs);
  await h.p.poll();
  expect(h.p.percent("ns", "importer-a")).toBe(10);
  expect(h.p.percent("ns", "importer-b")).toBeUndefined();
  expect(h.changed).toEqual(["importer-a"]);
  await h.p.poll();
  expect(h.changed).toEqual(["importer-a"]);
  expect(h.lines.filter((l) => l.includes("importer-b"))).toHaveLength(1);
  expect(h.lines[0]).toContain("HTTP 502");
  logs.set("importer-a", "progress: 10.00% (transfer)\nprogress: 42.50% (transfer)\n");
  logs.set("importer-b", "progress: N/A (1.0 MiB, transfer)\n");
  await h.p.poll();
  expect(h.p.percent("ns", "importer-a")).toBe(42.5);
  expect(h.changed).toEqual(["importer-a", "importer-a"]);
  h.setRunning([{ namespace: "ns", name: "importer-b" }]);
  await h.p.poll();
  expect(h.p.percent("ns", "importer-a")).toBeUndefined();
});

test("a huge log reply is read only to 4 KiB", async () => {
  const logs = new Map<string, string | number>([["importer-a", `progress: 5.00% (transfer)\n${"x".repeat(1 << 20)}\nprogress: 99.00% (transfer)\n`]]);
  const h = harness(logs);
  h.setRunning([{ namespace: "ns", name: "importer-a" }]);
  await h.p.poll();
  expect(h.p.percent("ns", "importer-a")).toBe(5);
});
