/**
 * The client commands console, start, stop, restart: parsed here, run by
 * their own files against the API server of the kubeconfig (connection.ts).
 * The same executable named kubectl-virt is a kubectl plugin (`kubectl virt ...`).
 */
import { consoleFlags, consoleVmi } from "./console.ts";
import { virtConnection } from "./connection.ts";
import { parseVirtArgs } from "./flags.ts";
import type { VirtIo } from "./put-subresource.ts";
import { restartFlags, restartVm } from "./restart.ts";
import { startFlags, startVm } from "./start.ts";
import { stopFlags, stopVm } from "./stop.ts";
import { processConsoleIo } from "./terminal.ts";
import { type VirtCommand, virtUsage } from "./names.ts";
import { UsageError } from "../usage.ts";

const flagsOf = { console: consoleFlags, start: startFlags, stop: stopFlags, restart: restartFlags };

/** Runs a client command; a usage problem prints the message and the client commands' usage, exit 2. */
export async function virtCommand(command: VirtCommand, args: string[], io: VirtIo, program = "bunvirt"): Promise<number> {
  try {
    return await runVirtCommand(command, args, io, program);
  } catch (e) {
    if (!(e instanceof UsageError) && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") !== true) throw e;
    io.err(`${program}: ${(e as Error).message}\n\n${virtUsage(program)}`);
    return 2;
  }
}

async function runVirtCommand(command: VirtCommand, args: string[], io: VirtIo, program: string): Promise<number> {
  const parsed = parseVirtArgs(command, args, flagsOf[command]);
  if (parsed === "help") {
    process.stdout.write(virtUsage(program));
    return 0;
  }
  const conn = virtConnection({ kubeconfig: parsed.kubeconfig, namespace: parsed.namespace, context: parsed.context });
  switch (command) {
    case "start":
      return startVm(conn, parsed.name, parsed.values, io);
    case "stop":
      return stopVm(conn, parsed.name, parsed.values, io);
    case "restart":
      return restartVm(conn, parsed.name, parsed.values, io);
    case "console": {
      const { consoleIo, dispose } = processConsoleIo();
      try {
        return await consoleVmi(conn, parsed.name, parsed.values, consoleIo);
      } finally {
        dispose();
      }
    }
  }
}
