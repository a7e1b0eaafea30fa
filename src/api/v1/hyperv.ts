/** kubevirt.io/v1 FeatureHyperv: the Hyper-V enlightenments a Windows guest uses on KVM. */
import * as v from "valibot";
import { doc, int } from "./primitives.ts";

const onByDefault = "Turn it on (true) or off (false). Default: true.";
const state = (what: string) =>
  doc(v.strictObject({ enabled: v.optional(doc(v.boolean(), onByDefault)) }), `${what} Set as an empty object to turn it on. Default: off.`);

/** The largest spinlock retry count: Hyper-V's 32-bit field (0xFFFFFFFF means never notify). */
export const maxSpinlockRetries = 0xffff_ffff;
/** Hyper-V's vendor id is at most 12 characters (libvirt's rule). */
export const maxVendorIdLength = 12;

export const hyperv = v.strictObject({
  relaxed: v.optional(state("Relaxed timing: the guest turns off its watchdog timeouts, which time out under a loaded host.")),
  vapic: v.optional(state("The virtual APIC assist page: fewer exits on interrupt handling.")),
  spinlocks: v.optional(doc(v.strictObject({
    enabled: v.optional(doc(v.boolean(), onByDefault)),
    spinlocks: v.optional(doc(int(4096, maxSpinlockRetries), "How often the guest spins on a lock before it tells the hypervisor, at least 4096. Default: 4096.")),
  }), "Paravirtual spinlock notification. Default: off.")),
  vpindex: v.optional(state("The virtual processor index, which synic, tlbflush and ipi need (turned on for them when not set).")),
  runtime: v.optional(state("The per-vCPU run time, for the guest's scheduler.")),
  synic: v.optional(state("The synthetic interrupt controller (needs vpindex).")),
  synictimer: v.optional(doc(v.strictObject({
    enabled: v.optional(doc(v.boolean(), onByDefault)),
    direct: v.optional(state("Direct-mode synthetic timers: their expiry is delivered as an interrupt, not a message.")),
  }), "Synthetic timers, which lower the CPU an idle guest uses (needs synic, turned on for it when not set). Default: off.")),
  reset: v.optional(state("Reset through the Hyper-V interface.")),
  vendorid: v.optional(doc(v.strictObject({
    enabled: v.optional(doc(v.boolean(), onByDefault)),
    vendorid: v.optional(doc(v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(maxVendorIdLength, `must be at most ${maxVendorIdLength} characters`)), "The hypervisor vendor id the guest reads, 1 to 12 characters, such as KVMKVMKVM.")),
  }), "The hypervisor vendor id the guest sees. Default: off (QEMU's).")),
  frequencies: v.optional(state("The TSC and APIC frequencies as Hyper-V MSRs.")),
  reenlightenment: v.optional(state("Notification of TSC frequency changes, for migration.")),
  tlbflush: v.optional(doc(v.strictObject({
    enabled: v.optional(doc(v.boolean(), onByDefault)),
    direct: v.optional(state("TLB flushes sent directly to the hypervisor (nested guests such as Windows VBS).")),
    extended: v.optional(state("Partial (extended) TLB flushes.")),
  }), "Paravirtual TLB flushes, faster on an overcommitted host (needs vpindex, turned on for it when not set). Default: off.")),
  ipi: v.optional(state("Paravirtual inter-processor interrupts (needs vpindex, turned on for it when not set).")),
  evmcs: v.optional(state("The enlightened VMCS, which speeds up nested guests (needs vapic, turned on for it when not set, and the vmx CPU feature, which bunvirt requires of the host CPU for it).")),
});

export type Hyperv = v.InferOutput<typeof hyperv>;
