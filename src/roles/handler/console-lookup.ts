/**
 * Where the handler sends a console request: the VMI it names (by name and
 * uid) on this node, Running, with its launcher's compute container running;
 * then the serial socket in that pod's state volume (safeConsoleSocket,
 * opened without following symlinks by connectConsoleSocket).
 */
import { computeContainerName } from "../controller/launcher-pod.ts";
import { isDeleting, type Vmi } from "../controller/model.ts";
import type { PodView } from "../controller/reconcile-vmi.ts";
import { consoleConflict, consoleNotFound, consoleNotRunningMessage, type ConsoleRequest } from "./console-protocol.ts";
import type { ConsoleLookup } from "./console-server.ts";
import { connectConsoleSocket } from "./console-socket.ts";
import { safeConsoleSocket } from "./launcher-socket.ts";

export function consoleLookupOf(
  request: ConsoleRequest,
  vmi: Vmi | undefined,
  pod: PodView | null,
  where: { nodeName: string; kubeletRoot: string },
): ConsoleLookup {
  if (vmi === undefined || vmi.metadata.uid !== request.uid) {
    return { ok: false, code: consoleNotFound, message: `VMI "${request.namespace}/${request.name}" with uid "${request.uid}" is not on node "${where.nodeName}"` };
  }
  const podUid = pod?.metadata.uid;
  const running = pod?.status?.containerStatuses?.find((c) => c.name === computeContainerName)?.state?.running !== undefined;
  if (vmi.status?.phase !== "Running" || !running || podUid === undefined || isDeleting(vmi)) {
    return { ok: false, code: consoleConflict, message: consoleNotRunningMessage };
  }
  return { ok: true, uid: request.uid, connect: async () => connectConsoleSocket(safeConsoleSocket(where.kubeletRoot, podUid)) };
}
