import { expect, test } from "bun:test";
import { statePath } from "./state.ts";

test("statePath is per pod interface", () => {
  expect(statePath("/run/bunvirt/network", "eth0")).toBe("/run/bunvirt/network/pod-eth0.json");
});
