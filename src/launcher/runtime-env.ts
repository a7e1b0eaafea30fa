/**
 * Environment the launcher process is started with (the launcher pod's
 * container, the local run's process inside the network namespace).
 *
 * BUN_JSC_useJIT=0: JavaScriptCore runs the launcher in its interpreter. The
 * launcher does little JavaScript work and then idles beside QEMU for the
 * VM's life; without the JIT tiers it keeps 7-8 MiB less RSS (61 → 53 MiB
 * with the test guest running, `bun bench/local-run.ts --rss-only`) at no
 * measurable cost to the time until the guest's first serial line.
 * JSC reads its options only at start, hence an environment variable.
 */
export const launcherRuntimeEnv: Readonly<Record<string, string>> = { BUN_JSC_useJIT: "0" };
