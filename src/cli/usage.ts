export const usage = `bunvirt — virtual machines next to containers on Kubernetes

Usage:
  bunvirt --role controller|handler|launcher [--health-addr HOST:PORT] [--kubeconfig FILE]
      every role: [--log-format text|json (text)] [--log-level debug|info|warn|error (info)]
                  [--config-dir DIR (a file per flag: emulation, registry, insecure-registry, log-level, log-format;
                                     the command line wins; a change ends the role with 0 to restart with it)]
      controller: [--leader-elect-lease-duration SECONDS (15)] [--leader-elect-retry-period SECONDS (2)]
                  [--webhook-addr HOST:PORT (serve the webhooks over TLS)] [--webhook-url https://HOST:PORT (register them)]
                  [--webhook-service NAMESPACE/NAME:PORT (register them behind this Service instead)]
                  [--subresource-addr HOST:PORT (serve the aggregated API subresources.kubevirt.io: start, stop, restart, console)]
                  [--subresource-service NAMESPACE/NAME:PORT (its APIService's Service; default: --webhook-service's on port 8444)]
                  [--launcher-image IMAGE (in a pod: its own container's image; else bunvirt:dev)] [--emulation (launchers use QEMU TCG)]
                  [--ip-forward-sysctl (masquerade launcher pods set net.ipv4.ip_forward=1: for nodes whose forwarding is off; the kubelet must allow it)]
                  [--host-disk-dirs DIR,DIR (node directories hostDisk volumes may use; none by default: hostDisk refused)]
                  [--node-heartbeat-timeout SECONDS (300; then a node's VMIs without a live pod fail)]
                  [--registry HOST[:PORT]] [--insecure-registry HOST[:PORT],...] (given to DataVolume importer pods)
      handler:    [--node-name NODE ($NODE_NAME, else the host name)] [--kubelet-root DIR (/var/lib/kubelet)]
                  [--registry HOST[:PORT] (for container disks named without a host)] [--insecure-registry HOST[:PORT],...]
                  [--disk-cache DIR (/var/lib/bunvirt/container-disks: container disks pulled once per node)]
                  [--device-plugins true|false|only (true: serve /dev/kvm, /dev/net/tun, /dev/vhost-net as devices.kubevirt.io/*;
                   only: that and nothing else, apart from the handler that syncs launchers)]
                  [--device-plugin-dir DIR (the kubelet's kubelet.sock dir: --kubelet-root's device-plugins)]
                  [--console-addr HOST:PORT (serve the VMIs' serial consoles to the controller over mutual TLS)]
                  [--console-advertise IP (the address put on the Node for the controller: $POD_IP, else the listen host)]
      launcher:   [--state-dir DIR] [--command-socket FILE] [--emulation]
                  [--libvirt-layout namespace|pod (namespace: a private mount namespace, needs CAP_SYS_ADMIN;
                   pod: the pod mounts libvirt's directories, as the controller's launcher pods do)]
  bunvirt validate FILE...               check VirtualMachine / VirtualMachineInstance manifests (and the instancetypes and preferences they name)
  bunvirt convert --to v1|v1alpha1 FILE  print a manifest converted between API versions [-o yaml|json]
  bunvirt run FILE... [--emulation] [...]  boot a VM locally, console on the terminal (see: bunvirt run --help)
  bunvirt volumes prepare|cleanup FILE --state-dir DIR [...]  prepare a manifest's volumes as the launcher will (see: bunvirt volumes --help)
  bunvirt import --data-volume-json FILE|- --claim NAME=DIR [...]  import one DataVolume into its claim, as the importer pod does (see: bunvirt import --help)
  bunvirt domain-xml FILE... [--emulation]  print the libvirt domain the launcher would define (placeholder paths)
  bunvirt console|start|stop|restart NAME [-n NS] [--kubeconfig FILE]  a VM's serial console and power, as virtctl (see: bunvirt stop --help);
                                         the executable named kubectl-virt is the kubectl plugin: kubectl virt console NAME
  bunvirt --version

Exit codes: 0 ok, 1 invalid input or failure, 2 usage error.
`;

/** A usage error: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

/** A flag's value checked by `parse`; a refusal is a usage error. */
export function usageFlag<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
