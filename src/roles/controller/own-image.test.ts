import { expect, test } from "bun:test";
import { ownImageOf } from "./own-image.ts";

test("one container: its image and pull policy", () => {
  expect(ownImageOf({ spec: { containers: [{ name: "controller", image: "bunvirt.local/launcher:abc", imagePullPolicy: "Never" }] } }, "p"))
    .toEqual({ image: "bunvirt.local/launcher:abc", imagePullPolicy: "Never" });
});

test("several containers: the one started with --role controller", () => {
  const pod = { spec: { containers: [
    { name: "sidecar", image: "proxy:1" },
    { name: "c", image: "bunvirt:2", args: ["--role", "controller", "--config-dir", "/etc/bunvirt/config"] },
  ] } };
  expect(ownImageOf(pod, "p")).toEqual({ image: "bunvirt:2" });
  expect(ownImageOf({ spec: { containers: [{ image: "x" }, { image: "bunvirt:3", command: ["bunvirt", "--role=controller"] }] } }, "p").image).toBe("bunvirt:3");
});

test("no container to tell: an error naming the pod", () => {
  expect(() => ownImageOf({ spec: { containers: [{ image: "a" }, { image: "b" }] } }, "ctl-1")).toThrow(/Cannot find the controller's image in its pod "ctl-1"/);
  expect(() => ownImageOf({}, "ctl-1")).toThrow(/0 containers/);
});
