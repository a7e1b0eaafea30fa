import { expect, test } from "bun:test";
import { ctxOf, render } from "../../../tests/lib/domain.ts";
import { cputune } from "./cputune.ts";

test("no dedicated CPUs: no cputune", () => {
  expect(render(cputune(ctxOf({ cpu: { cores: 2 } }, { cpus: [0, 1] })))).toEqual({});
});

test("vCPU n on the n-th allowed CPU; the emulator thread on the next", () => {
  expect(render(cputune(ctxOf({ cpu: { cores: 2, dedicatedCpuPlacement: true } }, { cpus: [2, 5, 7] })))).toEqual({
    cputune: ["<cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='5'/></cputune>"],
  });
  expect(render(cputune(ctxOf({ cpu: { cores: 2, dedicatedCpuPlacement: true, isolateEmulatorThread: true } }, { cpus: [2, 5, 7] })))).toEqual({
    cputune: ["<cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='5'/><emulatorpin cpuset='7'/></cputune>"],
  });
});

test("fewer CPUs than the VM needs is an error naming the field", () => {
  expect(() => cputune(ctxOf({ cpu: { sockets: 2, dedicatedCpuPlacement: true, isolateEmulatorThread: true } }, { cpus: [0, 1] }))).toThrow(
    "Cannot build domain: spec.domain.cpu.dedicatedCpuPlacement: needs 3 host CPUs (2 vCPUs and the emulator thread); the launcher may use 2 (0,1)",
  );
});
