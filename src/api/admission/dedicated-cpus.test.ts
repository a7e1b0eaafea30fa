import { expect, test } from "bun:test";
import type { VmiSpec } from "../v1/vmi.ts";
import { checkDedicatedCpus } from "./dedicated-cpus.ts";

const check = (domain: Partial<VmiSpec["domain"]>) => checkDedicatedCpus({ domain: { devices: {}, ...domain } }, "spec").map((p) => `${p.path}: ${p.rule}`);

test("a whole-CPU VM with dedicated CPUs passes: topology alone, CPU limit alone, both agreeing", () => {
  expect(check({ cpu: { cores: 2, dedicatedCpuPlacement: true, isolateEmulatorThread: true } })).toEqual([]);
  expect(check({ cpu: { dedicatedCpuPlacement: true }, resources: { limits: { cpu: 2, memory: "1Gi" }, requests: { cpu: "2", memory: "1Gi" } } })).toEqual([]);
  expect(check({ cpu: { sockets: 2, dedicatedCpuPlacement: true }, resources: { requests: { cpu: "2" } } })).toEqual([]);
});

test("KubeVirt's rules, each naming the field", () => {
  expect(check({ cpu: { isolateEmulatorThread: true } })).toEqual(["spec.domain.cpu.isolateEmulatorThread: needs domain.cpu.dedicatedCpuPlacement: true"]);
  expect(check({ cpu: { dedicatedCpuPlacement: true }, resources: { requests: { cpu: "1500m" } } })).toEqual([
    'spec.domain.resources.requests.cpu: "1500m" must be a whole number of CPUs with dedicatedCpuPlacement',
  ]);
  expect(check({ cpu: { dedicatedCpuPlacement: true }, resources: { requests: { cpu: "1" }, limits: { cpu: "2" } } })).toEqual([
    'spec.domain.resources.requests.cpu: "1" must equal the limit "2" with dedicatedCpuPlacement',
  ]);
  expect(check({ cpu: { cores: 4, dedicatedCpuPlacement: true }, resources: { limits: { cpu: "2" } } })).toEqual([
    "spec.domain.cpu.dedicatedCpuPlacement: the CPU limit (2) differs from sockets × cores × threads (4); give one of them",
  ]);
  expect(check({ cpu: { threads: 4, dedicatedCpuPlacement: true } })).toEqual(["spec.domain.cpu.threads: 4 threads per core; at most 2 with dedicatedCpuPlacement"]);
  expect(check({ cpu: { dedicatedCpuPlacement: true }, resources: { requests: { memory: "1Gi" }, limits: { memory: "2Gi" } } })).toEqual([
    'spec.domain.resources.requests.memory: "1Gi" must equal the limit "2Gi" with dedicatedCpuPlacement (the pod\'s QoS must be guaranteed)',
  ]);
});
