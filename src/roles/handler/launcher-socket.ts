/**
 * Where the handler reaches a launcher, on the node's file system: the
 * command socket and the state volume in the kubelet's directory for the
 * pod. A launcher controls what is in its own volumes, so every path is
 * proven to stay in the pod's directory (no symlink on the way, nothing
 * resolving outside) before the handler uses it (KubeVirt advisories
 * GHSA-2r4r-5x78-mvqf, CVE-2026-7374).
 */
import { realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { assertSocketPathSafe } from "../../launcher/command/safe-socket.ts";
import { assertUnder, pathUnder } from "../../paths/index.ts";
import { launcherSocketOnNode, stateVolumeName } from "../controller/launcher-pod.ts";

/** The kubelet root as a real path: every later check compares against it. */
export function realKubeletRoot(kubeletRoot: string): string {
  try {
    return realpathSync(kubeletRoot);
  } catch (cause) {
    throw new Error(`Cannot use the kubelet root "${kubeletRoot}": it does not exist`, { cause });
  }
}

/** The pod's directory under the kubelet root (a UID, one segment). */
export function podDirOnNode(kubeletRoot: string, podUid: string): string {
  // launcherSocketOnNode checks the UID's form.
  launcherSocketOnNode(podUid, kubeletRoot);
  return pathUnder(kubeletRoot, "pods", podUid);
}

/** The launcher's command socket, refused when it is a symlink or leads out of the pod's directory. */
export function safeLauncherSocket(kubeletRoot: string, podUid: string): string {
  const socket = launcherSocketOnNode(podUid, kubeletRoot);
  assertUnder(podDirOnNode(kubeletRoot, podUid), socket);
  assertSocketPathSafe(socket);
  return socket;
}

/** A directory in the launcher's state volume (e.g. "container-disks"), refused when it leads out of the pod's directory. */
export function safeStateDir(kubeletRoot: string, podUid: string, ...names: string[]): string {
  const podDir = podDirOnNode(kubeletRoot, podUid);
  const dir = pathUnder(podDir, "volumes", "kubernetes.io~empty-dir", stateVolumeName, ...names);
  assertUnder(podDir, dir);
  assertUnder(podDir, dirname(dir));
  return dir;
}

/** The launcher's serial console socket (`<state volume>/console/serial0`), refused when a symlink or a path out of the pod's directory is on the way. */
export function safeConsoleSocket(kubeletRoot: string, podUid: string): string {
  const socket = join(safeStateDir(kubeletRoot, podUid, "console"), "serial0");
  assertUnder(podDirOnNode(kubeletRoot, podUid), socket);
  assertSocketPathSafe(socket);
  return socket;
}
