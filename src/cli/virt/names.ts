/**
 * The client commands' names, the kubectl plugin's name and their usage
 * text: what main.ts needs before it loads the Kubernetes client.
 */
import { basename } from "node:path";

export const virtCommands = ["console", "start", "stop", "restart"] as const;
export type VirtCommand = (typeof virtCommands)[number];
export const isVirtCommand = (c: string | undefined): c is VirtCommand => (virtCommands as readonly string[]).includes(c ?? "");

/** Whether this executable runs as the kubectl plugin (its name, or the name it was called by, is kubectl-virt). */
export function isKubectlPlugin(argv0 = process.argv0, execPath = process.execPath): boolean {
  return basename(argv0) === "kubectl-virt" || basename(execPath) === "kubectl-virt";
}

export function virtUsage(program: string): string {
  return `Usage (the kubeconfig as kubectl finds it: --kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster; [--context NAME];
       the namespace: -n, else the context's, else "default"):
  ${program} console NAME [-n NS] [--kubeconfig FILE] [--timeout MINUTES (5)]   the VMI's serial console; Ctrl+] leaves
  ${program} start NAME [-n NS] [--kubeconfig FILE] [--paused] [--dry-run]
  ${program} stop NAME [-n NS] [--kubeconfig FILE] [--grace-period SECONDS --force] [--dry-run]
  ${program} restart NAME [-n NS] [--kubeconfig FILE] [--grace-period SECONDS --force] [--dry-run]
`;
}
