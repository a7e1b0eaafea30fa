import { expect, test } from "bun:test";
import { heartbeatPatch } from "./node-heartbeat.ts";

test("the heartbeat marks the node schedulable with the time; stopping marks it unschedulable", () => {
  const now = new Date("2026-01-01T10:20:30.456Z");
  expect(heartbeatPatch(now, true)).toEqual({ metadata: { labels: { "kubevirt.io/schedulable": "true" }, annotations: { "kubevirt.io/heartbeat": "2026-01-01T10:20:30Z" } } });
  expect(heartbeatPatch(now, false).metadata.labels).toEqual({ "kubevirt.io/schedulable": "false" });
});
