/**
 * The launcher's own memory once the VM runs. Starting a VM (manifest
 * validation, the pull, the ISO, the domain XML, D-Bus) leaves garbage that
 * JavaScriptCore's collector would only reclaim at its own pace, while the
 * launcher then sits idle beside QEMU for the VM's whole life. One full,
 * synchronous collection shortly after the domain starts hands that memory
 * back (measured by bench/local-run.ts).
 */

/** A full collection `delayMs` after the call (default 1 s); the timer does not keep the process alive. */
export function trimAfterStart(delayMs = 1_000): void {
  setTimeout(() => Bun.gc(true), delayMs).unref();
}
