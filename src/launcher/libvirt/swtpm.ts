/**
 * swtpm under a private stack (devices.tpm). libvirtd runs it itself: first
 * swtpm_setup, which makes the TPM's endorsement key and has swtpm_localca
 * sign its certificates, then swtpm, daemonized (the launcher, subreaper of
 * its tree, reaps it: orphan-reaper.ts), both as qemu.conf's swtpm_user.
 * Everything they write must stay in the stack's directories:
 * - TPM state: /var/lib/libvirt/swtpm/<uuid> (lib/), socket and pid file:
 *   /run/libvirt/qemu/swtpm (run/), logs: /var/log/swtpm (var-log/);
 * - the local CA's keys: Debian's /etc/swtpm_setup.conf points swtpm_localca
 *   at /var/lib/swtpm-localca, shared by the whole host (and read-only in a
 *   pod). libvirtd (privileged) runs swtpm_setup with its own environment,
 *   and swtpm_setup reads $XDG_CONFIG_HOME/swtpm_setup.conf before
 *   /etc's, so the stack gives libvirtd XDG_CONFIG_HOME=/etc/libvirt/swtpm
 *   holding these files, whose CA lives in /var/lib/libvirt/swtpm-localca.
 * Paths are the ones seen inside the stack's view (the namespace or the pod).
 * Pure: file contents and paths.
 */
import { join } from "node:path";
import { SYSTEM_PATHS, type StackPaths } from "./paths.ts";

/** libvirtd's XDG_CONFIG_HOME, where swtpm_setup finds its configuration. */
export const SWTPM_CONFIG_HOME = `${SYSTEM_PATHS.etc}/swtpm`;
/** The local CA's directory (keys, issuer certificate, serial), owned by swtpm_user. */
export const SWTPM_LOCALCA_DIR = `${SYSTEM_PATHS.lib}/swtpm-localca`;

/** The same two directories as the stack writes them (below its state directory). */
export function swtpmDirs(paths: StackPaths): { configHome: string; localca: string } {
  return { configHome: join(paths.etc, "swtpm"), localca: join(paths.lib, "swtpm-localca") };
}

/** File name -> contents of the configuration in SWTPM_CONFIG_HOME. */
export function swtpmConfigFiles(): Record<string, string> {
  return {
    "swtpm_setup.conf": [
      "# Written by bunvirt for a private libvirt stack.",
      "create_certs_tool = /usr/bin/swtpm_localca",
      `create_certs_tool_config = ${SWTPM_CONFIG_HOME}/swtpm-localca.conf`,
      `create_certs_tool_options = ${SWTPM_CONFIG_HOME}/swtpm-localca.options`,
      "active_pcr_banks = sha256",
      "",
    ].join("\n"),
    "swtpm-localca.conf": [
      `statedir = ${SWTPM_LOCALCA_DIR}`,
      `signingkey = ${SWTPM_LOCALCA_DIR}/signkey.pem`,
      `issuercert = ${SWTPM_LOCALCA_DIR}/issuercert.pem`,
      `certserial = ${SWTPM_LOCALCA_DIR}/certserial`,
      "",
    ].join("\n"),
    "swtpm-localca.options": ["--platform-manufacturer bunvirt", "--platform-version 2.1", "--platform-model QEMU", ""].join("\n"),
  };
}
