/**
 * The config files of the cluster tier's node (tests/lib/cluster-node.ts):
 * containerd's, the CNI bridge network's, the kubelet's and kube-proxy's.
 * Pure text.
 */

/** containerd 1.6 (config version 2): state, sockets and CNI config under `dir`. */
export function containerdConfig(dir: string, cniBin: string): string {
  return `version = 2
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${dir}/containerd/containerd.sock"
[ttrpc]
  address = "${dir}/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10.1"
  disable_apparmor = true
  # No CAP_SYS_RESOURCE here: nothing may lower its OOM score below containerd's.
  restrict_oom_score_adj = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${cniBin}"
    conf_dir = "${dir}/cni/net.d"
    max_conf_num = 1
`;
}

/** One bridge network, host-local addresses from `podSubnet`. */
export function cniConfig(dir: string, podSubnet: string): string {
  return JSON.stringify({
    cniVersion: "1.0.0",
    name: "bunvirt-node",
    plugins: [
      {
        type: "bridge",
        bridge: "cni0",
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: "host-local", ranges: [[{ subnet: podSubnet }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: `${dir}/cni/ipam` },
      },
    ],
  });
}

/** The kubelet's KubeletConfiguration, serving at `nodeAddress` with the certificate from node-pki.sh; its root dir is set by --root-dir. */
export function kubeletConfig(dir: string, pki: string, nodeAddress: string): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${nodeAddress}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${pki}/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: ${pki}/kubelet.crt
tlsPrivateKeyFile: ${pki}/kubelet.key
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://${dir}/containerd/containerd.sock
podLogsDir: ${dir}/pod-logs
resolvConf: ${dir}/resolv.conf
clusterDomain: cluster.local
registerNode: true
rotateCertificates: false
serializeImagePulls: false
protectKernelDefaults: false
# Launcher pods with a masquerade interface set IPv4 forwarding in their own network namespace (src/roles/controller/launcher-pod.ts).
allowedUnsafeSysctls: ["net.ipv4.ip_forward"]
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# No CAP_SYS_RESOURCE here: the kubelet may not lower its own OOM score.
oomScoreAdj: 0
`;
}

/**
 * kube-proxy's KubeProxyConfiguration: nftables mode in the node's network
 * namespace. `masqueradeAll`: a pod reaching a Service whose endpoint is a pod
 * on the same bridge gets the reply through the node (where the DNAT is
 * undone), not straight over the bridge. Conntrack limits and timeouts at 0:
 * kube-proxy leaves those sysctls alone (nf_conntrack_max is the host's).
 * Its health and metrics servers on the node's loopback.
 */
export function kubeProxyConfig(kubeconfig: string, nodeName: string, podSubnet: string, nodeAddress: string): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: ${kubeconfig}}
hostnameOverride: ${nodeName}
mode: nftables
clusterCIDR: ${podSubnet}
detectLocalMode: ClusterCIDR
masqueradeAll: true
nodePortAddresses: ["${nodeAddress}/32"]
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# No CAP_SYS_RESOURCE here.
oomScoreAdj: 0
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
  tcpBeLiberal: false
  udpTimeout: 0s
  udpStreamTimeout: 0s
`;
}
