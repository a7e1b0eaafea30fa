/**
 * Environment the launcher process is started with (the launcher pod's
 * container, the local run's process inside the network namespace).
 *
 * JavaScriptCore runs the launcher in its interpreter: the baseline, DFG and
 * FTL tiers are off. The launcher does little JavaScript work and then idles
 * beside QEMU for the VM's life; without those tiers it keeps 6 MiB less
 * RSS (56.8 → 50.5 MiB with the test guest running, `bun bench/local-run.ts
 * --rss-only`) at no measurable cost to the time until the guest's first
 * serial line. The JIT itself stays on (BUN_JSC_useJIT=0 would turn it off
 * too): bun:ffi compiles its calls with it, and the launcher waits for its
 * QEMU through libc (src/launcher/libvirt/child-waits.ts).
 * JSC reads its options only at start, hence environment variables.
 */
export const launcherRuntimeEnv: Readonly<Record<string, string>> = {
  BUN_JSC_useBaselineJIT: "0",
  BUN_JSC_useDFGJIT: "0",
  BUN_JSC_useFTLJIT: "0",
};
