import { expect, test } from "bun:test";
import { heartbeatPatch } from "./node-heartbeat.ts";

test("the heartbeat marks the node schedulable with the time; stopping marks it unschedulable", () => {
  const now = new Date("2026-01-01T10:20:30.456Z");
  expect(heartbeatPatch(now, true)).toEqual({ metadata: { labels: { "kubevirt.io/schedulable": "true", cpumanager: "false" }, annotations: { "kubevirt.io/heartbeat": "2026-01-01T10:20:30Z" } } });
  expect(heartbeatPatch(now, false).metadata.labels).toEqual({ "kubevirt.io/schedulable": "false", cpumanager: "false" });
  expect(heartbeatPatch(now, true, {}, true).metadata.labels).toEqual({ "kubevirt.io/schedulable": "true", cpumanager: "true" });
});

test("the heartbeat carries the console's annotation when there is one", () => {
  const patch = heartbeatPatch(new Date("2026-01-01T10:20:30Z"), true, { "kubevirt.io/bunvirt-console": '{"address":"10.0.0.1:8187","sha256":"ab"}' });
  expect(patch.metadata.annotations["kubevirt.io/bunvirt-console"]).toBe('{"address":"10.0.0.1:8187","sha256":"ab"}');
  expect(patch.metadata.annotations["kubevirt.io/heartbeat"]).toBe("2026-01-01T10:20:30Z");
});
