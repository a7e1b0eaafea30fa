#!/usr/bin/env bash
# Issues a node's kubelet certificate from the cluster CA that
# scripts/cluster/pki.sh made in DIR, and a kubeconfig for the kubelet.
#
#   scripts/cluster/node-pki.sh DIR NODE NODE_IP SERVER
#
# DIR gets kubelet.crt/.key (CN=system:node:NODE, O=system:nodes: the Node
# authorizer's identity; serverAuth for its API at NODE_IP, clientAuth towards
# the API server) and kubelet.kubeconfig (reaching SERVER).
set -euo pipefail
[ $# = 4 ] || { echo "usage: $0 DIR NODE NODE_IP SERVER" >&2; exit 2; }
dir=$1 node=$2 ip=$3 server=$4
[ -s "$dir/ca.key" ] || { echo "Cannot issue the kubelet certificate: \"$dir/ca.key\" is missing (scripts/cluster/pki.sh makes it)" >&2; exit 1; }
cd "$dir"
dir=$(pwd)
openssl ecparam -name prime256v1 -genkey -noout -out kubelet.key 2>/dev/null
chmod 600 kubelet.key
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
  "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=DNS:$node,IP:$ip" > kubelet.ext
openssl req -new -key kubelet.key -subj "/O=system:nodes/CN=system:node:$node" -out kubelet.csr
openssl x509 -req -in kubelet.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -sha256 -extfile kubelet.ext -out kubelet.crt 2>/dev/null
rm kubelet.csr kubelet.ext
cat > kubelet.kubeconfig <<KC
apiVersion: v1
kind: Config
clusters:
- name: bunvirt-test
  cluster: {server: "$server", certificate-authority: "$dir/ca.crt"}
users:
- name: kubelet
  user: {client-certificate: "$dir/kubelet.crt", client-key: "$dir/kubelet.key"}
contexts:
- name: kubelet@bunvirt-test
  context: {cluster: bunvirt-test, user: kubelet}
current-context: kubelet@bunvirt-test
KC
