/**
 * The one bunvirt executable. Flags choose a role or a subcommand; this file
 * only parses and dispatches.
 */
import { parseArgs } from "node:util";
import { UsageError, usage, usageFlag } from "./cli/usage.ts";
import { formatLogLine, parseLogFormat, parseLogLevel } from "./log/logger.ts";
import type { RoleMain, RoleSettings } from "./roles/role.ts";
import { version } from "./version.ts";

// Loaded on demand: a CLI call does not pay for the Kubernetes client.
const roles: Record<string, () => Promise<RoleMain>> = {
  controller: async () => (await import("./roles/controller/index.ts")).controllerMain,
  handler: async () => (await import("./roles/handler/index.ts")).handlerMain,
  launcher: async () => (await import("./roles/launcher/index.ts")).launcherMain,
};

const defaultHealthAddr: Record<string, string> = { controller: "0.0.0.0:8443", handler: "0.0.0.0:8186", launcher: "127.0.0.1:8187" };

async function main(argv: string[]): Promise<number> {
  // Subcommands with flags of their own parse them themselves.
  if (argv[0] === "run") {
    return (await import("./cli/run.ts")).runCommand(argv.slice(1), (l) => console.error(l));
  }
  // The client commands (also as the kubectl plugin kubectl-virt).
  const virt = await import("./cli/virt/names.ts");
  if (virt.isVirtCommand(argv[0])) {
    const program = virt.isKubectlPlugin() ? "kubectl virt" : "bunvirt";
    const { virtCommand } = await import("./cli/virt/index.ts");
    return virtCommand(argv[0], argv.slice(1), { out: (l) => console.log(l), err: (l) => console.error(l) }, program);
  }
  if (virt.isKubectlPlugin() && (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h")) {
    process.stdout.write(`kubectl virt — bunvirt's client as a kubectl plugin\n\n${virt.virtUsage("kubectl virt")}`);
    return 0;
  }
  if (argv[0] === "import") {
    // SIGTERM (the pod deleted) stops the import; it leaves nothing in the claim.
    const stop = new AbortController();
    process.once("SIGTERM", () => stop.abort(new Error("the importer was asked to stop (SIGTERM)")));
    return (await import("./cli/import.ts")).importCommand(argv.slice(1), { out: (l) => console.log(l), err: (l) => console.error(l), signal: stop.signal });
  }
  if (argv[0] === "volumes") {
    return (await import("./cli/volumes.ts")).volumesCommand(argv.slice(1), (l) => console.log(l), (l) => console.error(l));
  }
  const parsed = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      role: { type: "string" },
      "health-addr": { type: "string" },
      kubeconfig: { type: "string" },
      version: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      to: { type: "string" },
      output: { type: "string", short: "o" },
      emulation: { type: "boolean" },
      "ip-forward-sysctl": { type: "boolean" },
      "state-dir": { type: "string" },
      "command-socket": { type: "string" },
      "libvirt-layout": { type: "string" },
      "leader-elect-lease-duration": { type: "string" },
      "leader-elect-retry-period": { type: "string" },
      "node-heartbeat-timeout": { type: "string" },
      "webhook-addr": { type: "string" },
      "webhook-url": { type: "string" },
      "launcher-image": { type: "string" },
      "node-name": { type: "string" },
      "kubelet-root": { type: "string" },
      registry: { type: "string" },
      "insecure-registry": { type: "string" },
      "log-format": { type: "string" },
      "log-level": { type: "string" },
      "disk-cache": { type: "string" },
      "disk-cache-keep": { type: "string" },
      "device-plugins": { type: "string" },
      "device-plugin-dir": { type: "string" },
      "console-addr": { type: "string" },
      "console-advertise": { type: "string" },
      "config-dir": { type: "string" },
      "webhook-service": { type: "string" },
      "subresource-addr": { type: "string" },
      "subresource-service": { type: "string" },
      "host-disk-dirs": { type: "string" },
    },
  });
  let values = parsed.values;
  const positionals = parsed.positionals;
  if (values.version) {
    console.log(`bunvirt ${version}`);
    return 0;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const roleName = values.role;
  if (roleName !== undefined) {
    const role = roles[roleName];
    if (role === undefined) throw new UsageError(`--role must be one of ${Object.keys(roles).join(", ")}, not "${roleName}"`);
    if (positionals.length > 0) throw new UsageError(`--role takes no arguments, got "${positionals.join(" ")}"`);
    const { runRole } = await import("./roles/role.ts");
    // Settings from a mounted ConfigMap under the command line's flags (config-dir.ts).
    const configDir = values["config-dir"];
    let settings: RoleSettings | undefined;
    if (configDir !== undefined) {
      const { configFlags, readConfigDir, withConfigFlags } = await import("./cli/config-dir.ts");
      const snapshot = readConfigDir(configDir);
      const given = new Set(Object.keys(values).filter((k) => values[k as keyof typeof values] !== undefined));
      settings = { dir: configDir, snapshot, ignored: given };
      values = withConfigFlags(values, configFlags(snapshot, configDir));
    }
    return runRole(roleName, {
      healthAddr: values["health-addr"] ?? defaultHealthAddr[roleName]!,
      ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
      ...(values["state-dir"] !== undefined ? { stateDir: values["state-dir"] } : {}),
      ...(values["command-socket"] !== undefined ? { commandSocket: values["command-socket"] } : {}),
      libvirtLayout: values["libvirt-layout"],
      leaseDuration: values["leader-elect-lease-duration"],
      leaseRetry: values["leader-elect-retry-period"],
      nodeHeartbeatTimeout: values["node-heartbeat-timeout"],
      webhookAddr: values["webhook-addr"],
      webhookUrl: values["webhook-url"],
      webhookService: values["webhook-service"],
      subresourceAddr: values["subresource-addr"],
      subresourceService: values["subresource-service"],
      launcherImage: values["launcher-image"],
      nodeName: values["node-name"],
      kubeletRoot: values["kubelet-root"],
      registry: values.registry,
      insecureRegistry: values["insecure-registry"],
      diskCache: values["disk-cache"],
      diskCacheKeep: values["disk-cache-keep"],
      devicePlugins: values["device-plugins"],
      devicePluginDir: values["device-plugin-dir"],
      consoleAddr: values["console-addr"],
      consoleAdvertise: values["console-advertise"],
      emulation: values.emulation === true,
      ipForwardSysctl: values["ip-forward-sysctl"] === true,
      hostDiskDirs: values["host-disk-dirs"],
      logFormat: usageFlag(() => parseLogFormat(values["log-format"])),
      logLevel: usageFlag(() => parseLogLevel(values["log-level"])),
    }, await role(), settings);
  }
  const [command, ...rest] = positionals;
  const out = (line: string): void => console.log(line);
  switch (command) {
    case "validate":
      return (await import("./cli/validate.ts")).validateCommand(rest, out);
    case "convert":
      return (await import("./cli/convert.ts")).convertCommand(values.to, values.output, rest, (t) => process.stdout.write(t), (l) => console.error(l));
    case "domain-xml":
      return (await import("./cli/domain-xml.ts")).domainXmlCommand(rest, values.emulation === true, (t) => process.stdout.write(t), (l) => console.error(l));
    case undefined:
      throw new UsageError("give a subcommand or --role");
    default:
      throw new UsageError(`unknown subcommand "${command}"`);
  }
}

try {
  process.exitCode = await main(Bun.argv.slice(2));
  // A role or a run may leave handles (sockets, stdin) that need not keep us alive.
  process.exit();
} catch (e) {
  const usageProblem = e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  const { withoutRuntimeHints } = await import("./errors/system-error.ts");
  const message = withoutRuntimeHints((e as Error).message);
  // The last line too is JSON when the run asked for JSON lines (a malformed --log-format gets text).
  const args = Bun.argv.slice(2);
  const json = args.includes("--log-format=json") || args.some((a, i) => a === "--log-format" && args[i + 1] === "json");
  const roleAt = args.indexOf("--role");
  const role = roleAt >= 0 ? (args[roleAt + 1] ?? "bunvirt") : args.find((a) => a.startsWith("--role="))?.slice(7) ?? "bunvirt";
  console.error(json ? formatLogLine({ time: new Date().toISOString(), level: "error", role, message }, "json") : `bunvirt: ${message}`);
  if (usageProblem) process.stderr.write(`\n${usage}`);
  process.exitCode = usageProblem ? 2 : 1;
}
