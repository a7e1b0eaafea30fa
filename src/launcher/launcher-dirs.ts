/** The launcher's directories below its state dir. Pure: paths only. */
import { pathUnder } from "../paths/index.ts";

export function launcherDirs(stateDir: string): { libvirt: string; volumes: string; console: string; network: string } {
  return { libvirt: pathUnder(stateDir, "libvirt"), volumes: pathUnder(stateDir, "volumes"), console: pathUnder(stateDir, "console"), network: pathUnder(stateDir, "network") };
}
