import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubeletCpuManagerStatic, staticPolicyOf } from "./cpu-manager.ts";

test("the kubelet's state file names the policy; anything else is not static", () => {
  expect(staticPolicyOf('{"policyName":"static","defaultCpuSet":"0,3","entries":{},"checksum":1}')).toBe(true);
  expect(staticPolicyOf('{"policyName":"none","defaultCpuSet":"","checksum":1}')).toBe(false);
  expect(staticPolicyOf("not json")).toBe(false);
  expect(staticPolicyOf("null")).toBe(false);
});

test("read from the kubelet's root; missing or oversized is false", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cpu-manager-"));
  try {
    expect(await kubeletCpuManagerStatic(dir)).toBe(false);
    writeFileSync(join(dir, "cpu_manager_state"), '{"policyName":"static"}');
    expect(await kubeletCpuManagerStatic(dir)).toBe(true);
    writeFileSync(join(dir, "cpu_manager_state"), `{"policyName":"static","pad":"${"x".repeat(70_000)}"}`);
    expect(await kubeletCpuManagerStatic(dir)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
