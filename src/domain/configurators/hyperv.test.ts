import { expect, test } from "bun:test";
import { ctxOf, render } from "../../../tests/lib/domain.ts";
import { cpu } from "./cpu.ts";
import { features } from "./features.ts";

const kvm = { emulation: false };

test("on KVM: each enlightenment as libvirt names it, what they need turned on, spinlocks 4096 by default", () => {
  const ctx = ctxOf({ features: { hyperv: { relaxed: {}, spinlocks: {}, synictimer: { direct: {} }, vendorid: { vendorid: "KVMKVMKVM" }, reset: { enabled: false } } } }, kvm);
  expect(render(features(ctx)).features).toEqual([
    "<features><acpi/><apic/><hyperv mode='custom'><relaxed state='on'/><spinlocks state='on' retries='4096'/><vpindex state='on'/><synic state='on'/>" +
      "<stimer state='on'><direct state='on'/></stimer><reset state='off'/><vendor_id state='on' value='KVMKVMKVM'/></hyperv></features>",
  ]);
});

test("an enlightenment turned off is written off, without its details", () => {
  const ctx = ctxOf({ features: { hyperv: { spinlocks: { enabled: false, spinlocks: 8191 }, tlbflush: { enabled: false }, vpindex: {} } } }, kvm);
  expect(render(features(ctx)).features).toEqual([
    "<features><acpi/><apic/><hyperv mode='custom'><spinlocks state='off'/><vpindex state='on'/><tlbflush state='off'/></hyperv></features>",
  ]);
});

test("the enlightened VMCS turns vapic on and requires the host CPU's vmx", () => {
  const ctx = ctxOf({ features: { hyperv: { evmcs: {} } } }, kvm);
  expect(render(features(ctx)).features).toEqual(["<features><acpi/><apic/><hyperv mode='custom'><vapic state='on'/><evmcs state='on'/></hyperv></features>"]);
  expect(render(cpu(ctx)).cpu).toEqual([
    "<cpu mode='host-model' check='none'><topology sockets='1' dies='1' cores='1' threads='1'/><feature policy='require' name='vmx'/></cpu>",
  ]);
});

test("under emulation there are no enlightenments and no vmx", () => {
  const ctx = ctxOf({ features: { hyperv: { relaxed: {}, evmcs: {} } } });
  expect(render(features(ctx)).features).toEqual(["<features><acpi/><apic/></features>"]);
  expect(render(cpu(ctx)).cpu).toEqual(["<cpu mode='maximum' check='none'><topology sockets='1' dies='1' cores='1' threads='1'/></cpu>"]);
});
