import { expect, test } from "bun:test";
import type { KubeRest } from "../../kube/rest.ts";
import { makeLogger } from "../../log/logger.ts";
import { ControllerWrites, statusPath, vmiResource, vmResource } from "./kube-writes.ts";

function recorder(): { writes: ControllerWrites; sent: [string, string, unknown][] } {
  const sent: [string, string, unknown][] = [];
  const rest = { patch: async (path: string, type: string, body: unknown) => (sent.push([path, type, body]), {}) } as unknown as KubeRest;
  return { writes: new ControllerWrites(rest, makeLogger({ role: "controller", write: () => undefined })), sent };
}

const obj = { kind: "X", metadata: { name: "a", namespace: "ns", labels: { app: "x" } }, status: { phase: "Scheduling" } };

test("a VMI (no status subresource): labels and status in one merge patch of what changed", async () => {
  const { writes, sent } = recorder();
  expect(await writes.patchObject(vmiResource, obj, { labels: { app: "x", node: "n1" }, status: { phase: "Scheduled" } })).toBe(true);
  expect(sent).toEqual([["/apis/kubevirt.io/v1/namespaces/ns/virtualmachineinstances/a", "merge", { metadata: { labels: { node: "n1" } }, status: { phase: "Scheduled" } }]]);
});

test("a VM (status subresource): the status through /status", async () => {
  const { writes, sent } = recorder();
  await writes.patchStatus(vmResource, obj, { phase: "Running" });
  expect(sent).toEqual([["/apis/kubevirt.io/v1/namespaces/ns/virtualmachines/a/status", "merge", { status: { phase: "Running" } }]]);
});

test("nothing changed: nothing sent", async () => {
  const { writes, sent } = recorder();
  expect(await writes.patchObject(vmiResource, obj, { labels: { app: "x" }, status: { phase: "Scheduling" } })).toBe(false);
  expect(await writes.patchStatus(vmResource, obj, { phase: "Scheduling" })).toBe(false);
  expect(sent).toEqual([]);
});

test("where a status is written: a VM's through /status, a VMI's through the object", () => {
  expect(statusPath(vmResource, "ns", "a")).toBe("/apis/kubevirt.io/v1/namespaces/ns/virtualmachines/a/status");
  expect(statusPath(vmiResource, "ns", "a")).toBe("/apis/kubevirt.io/v1/namespaces/ns/virtualmachineinstances/a");
});
