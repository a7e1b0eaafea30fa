#!/usr/bin/env bash
# Makes a cluster's PKI with openssl in DIR: a CA, the API server's serving
# certificate, client certificates, the service-account signing key, and
# kubeconfigs that reach SERVER with a client certificate and the CA file.
#
#   scripts/cluster/pki.sh DIR SERVER    e.g. pki.sh /tmp/x/pki https://127.0.0.1:6443
#
# DIR gets:
#   ca.crt ca.key                    the cluster CA (also the client CA)
#   apiserver.crt/.key               serving: localhost, 127.0.0.1, kubernetes.default.svc, 10.96.0.1, 10.250.0.1
#   admin.crt/.key                   CN=admin, O=system:masters
#   kube-scheduler.crt/.key          CN=system:kube-scheduler
#   kube-controller-manager.crt/.key CN=system:kube-controller-manager
#   kube-proxy.crt/.key              CN=system:kube-proxy (bound to system:node-proxier)
#   apiserver-kubelet-client.crt/.key CN=kube-apiserver-kubelet-client, O=system:masters
#   front-proxy-client.crt/.key      CN=front-proxy-client: the API server's identity towards
#                                    aggregated APIs (--proxy-client-cert-file)
#   sa.key sa.pub                    service-account token signing key pair
#   admin.kubeconfig kube-scheduler.kubeconfig kube-controller-manager.kubeconfig kube-proxy.kubeconfig
set -euo pipefail

[ $# = 2 ] || { echo "usage: $0 DIR SERVER" >&2; exit 2; }
dir=$1 server=$2
command -v openssl >/dev/null || { echo "Cannot make the cluster PKI: openssl is not installed (Debian package openssl)" >&2; exit 1; }
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
dir=$(pwd)
days=3650

# ECDSA P-256 keys: fast to make, accepted by every Kubernetes component.
newkey() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; chmod 600 "$1"; }

newkey ca.key
openssl req -x509 -new -key ca.key -sha256 -days $days -subj "/CN=bunvirt-test-ca" -out ca.crt

# issue NAME SUBJECT EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
issue() {
  local name=$1 subject=$2 usage=$3 san=${4:-}
  newkey "$name.key"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [ -z "$san" ] || echo "subjectAltName=$san"
  } > "$name.ext"
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days $days -sha256 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm "$name.csr" "$name.ext"
}

issue apiserver "/CN=kube-apiserver" serverAuth \
  "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1,IP:10.250.0.1"
issue admin "/O=system:masters/CN=admin" clientAuth
issue kube-scheduler "/CN=system:kube-scheduler" clientAuth
issue kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
issue kube-proxy "/CN=system:kube-proxy" clientAuth
issue apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
issue front-proxy-client "/CN=front-proxy-client" clientAuth

openssl genrsa -out sa.key 2048 2>/dev/null
chmod 600 sa.key
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null

# kubeconfig NAME: NAME.kubeconfig with NAME's client certificate.
kubeconfig() {
  cat > "$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: bunvirt-test
  cluster:
    server: $server
    certificate-authority: $dir/ca.crt
users:
- name: $1
  user:
    client-certificate: $dir/$1.crt
    client-key: $dir/$1.key
contexts:
- name: $1@bunvirt-test
  context: {cluster: bunvirt-test, user: $1}
current-context: $1@bunvirt-test
EOF
}
kubeconfig admin
kubeconfig kube-scheduler
kubeconfig kube-controller-manager
kubeconfig kube-proxy
