import { describe, expect, test } from "bun:test";
import { ctxOf, render } from "../../../tests/lib/domain.ts";
import { cpu } from "./cpu.ts";
import { memory } from "./memory.ts";

describe("cpu", () => {
  const table: [string, Parameters<typeof ctxOf>[0], boolean, string[], string][] = [
    ["defaults under emulation: TCG's maximum model", {}, true, ["<vcpu placement='static'>1</vcpu>"], "<cpu mode='maximum' check='none'><topology sockets='1' dies='1' cores='1' threads='1'/></cpu>"],
    ["host-model on KVM", { cpu: { model: "host-model" } }, false, ["<vcpu placement='static'>1</vcpu>"], "<cpu mode='host-model' check='none'><topology sockets='1' dies='1' cores='1' threads='1'/></cpu>"],
    ["host-passthrough under emulation falls back", { cpu: { model: "host-passthrough" } }, true, ["<vcpu placement='static'>1</vcpu>"], "<cpu mode='maximum' check='none'><topology sockets='1' dies='1' cores='1' threads='1'/></cpu>"],
    ["named model and topology", { cpu: { model: "Skylake-Client", sockets: 2, cores: 2, threads: 2 } }, false, ["<vcpu placement='static'>8</vcpu>"], "<cpu mode='custom' match='exact' check='none'><model fallback='allow'>Skylake-Client</model><topology sockets='2' dies='1' cores='2' threads='2'/></cpu>"],
  ];
  for (const [name, domain, emulation, vcpu, want] of table) {
    test(name, () => {
      const out = render(cpu(ctxOf(domain, { emulation })));
      expect(out.vcpu).toEqual(vcpu);
      expect(out.cpu).toEqual([want]);
    });
  }
});

describe("memory", () => {
  const table: [string, Parameters<typeof ctxOf>[0], number][] = [
    ["request in decimal megabytes, rounded up to a MiB", { resources: { requests: { memory: "64M" } } }, 62 * 1024],
    ["request in MiB", { resources: { requests: { memory: "128Mi" } } }, 128 * 1024],
    ["guest wins over the request", { memory: { guest: "256Mi" }, resources: { requests: { memory: "128Mi" } } }, 256 * 1024],
    ["limit when nothing else", { resources: { limits: { memory: "1Gi" } } }, 1024 * 1024],
  ];
  for (const [name, domain, kib] of table) {
    test(name, () => {
      const out = render(memory(ctxOf(domain)));
      expect(out.memory).toEqual([`<memory unit='KiB'>${kib}</memory>`]);
      expect(out.currentMemory).toEqual([`<currentMemory unit='KiB'>${kib}</currentMemory>`]);
    });
  }
  test("no memory at all is an error naming the field", () => {
    expect(() => memory(ctxOf({ resources: {} }))).toThrow("domain.resources.requests.memory: no guest memory is given");
  });
});
