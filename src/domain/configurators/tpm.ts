/**
 * devices.tpm: an emulated TPM 2.0 on the TIS interface, as KubeVirt gives a
 * VMI without persistent state (it uses CRB only with persistent state, which
 * bunvirt refuses). libvirtd runs swtpm for it; its state and logs stay in
 * the launcher's libvirt directories (src/launcher/libvirt/paths.ts).
 */
import { hasTpm } from "../../api/tpm-device.ts";
import type { Configurator } from "../context.ts";
import { el } from "../xml.ts";

export const tpm: Configurator = ({ spec }) =>
  hasTpm(spec) ? { tpm: [el("tpm", { model: "tpm-tis" }, el("backend", { type: "emulator", version: "2.0" }))] } : {};
