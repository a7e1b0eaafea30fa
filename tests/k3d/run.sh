#!/usr/bin/env bash
# The end-to-end suite against bunvirt deployed on k3d (k3s in Docker), the
# way a user installs it: kubectl apply -k deploy/kustomize/overlays/k3d.
#
#   tests/k3d/run.sh
#
# 1. creates the k3d cluster "bunvirt-e2e" (one server, one agent) with a
#    registry of its own (k3d-bunvirt-registry:5000, published on
#    127.0.0.1:$BUNVIRT_K3D_REGISTRY_PORT) that serves the test guest as
#    kubevirt/cirros-registry-disk-demo:devel (the examples' containerDisk);
# 2. imports bunvirt's image: the image.tar of
#    scripts/cluster/build-launcher-image.sh (docker load), or with
#    BUNVIRT_K3D_CONTAINERFILE=1 a `docker build` of deploy/image/Containerfile;
# 3. applies overlays/k3d plus a generated overlay that names that image and
#    the cluster's registry, waits for the controller and every handler to be
#    Ready;
# 4. runs BUNVIRT_E2E_KUBECONFIG=... bun test ./tests/cluster/e2e.test.ts;
# 5. deletes the cluster and the registry (also on failure).
#
# Exits 0 with "skipped: ..." when docker or k3d is missing (scripts/test
# counts that as a skipped tier). Needs skopeo and what
# scripts/guest/oci-image.sh needs, for the guest image.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

missing=()
for c in docker k3d skopeo; do command -v "$c" >/dev/null || missing+=("$c"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "k3d end-to-end: skipped: no docker/k3d (missing: ${missing[*]})"
  exit 0
fi
docker info >/dev/null 2>&1 || { echo "k3d end-to-end: skipped: no docker/k3d (the docker daemon does not answer)"; exit 0; }

cluster=bunvirt-e2e
registry=bunvirt-registry
registry_port=${BUNVIRT_K3D_REGISTRY_PORT:-5055}
kubectl=${BUNVIRT_E2E_KUBECTL:-$(command -v kubectl || echo /var/cache/bunvirt/k8s-v1.34.4/bin/kubectl)}
work=$(mktemp -d /tmp/bunvirt-k3d.XXXXXX)
kubeconfig=$work/kubeconfig

cleanup() {
  k3d cluster delete "$cluster" >/dev/null 2>&1 || true
  k3d registry delete "k3d-$registry" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The image, as ref name:tag.
if [ "${BUNVIRT_K3D_CONTAINERFILE:-0}" = 1 ]; then
  image=bunvirt.local/bunvirt:k3d
  docker build -f deploy/image/Containerfile -t "$image" .
else
  [ -x compiled/bunvirt ] || bun run build
  dir=$(scripts/cluster/build-launcher-image.sh | tail -1)
  image=$(cat "$dir/ref")
  docker load -i "$dir/image.tar"
fi

echo "=== k3d cluster $cluster"
k3d registry create "$registry" --port "127.0.0.1:$registry_port"
k3d cluster create "$cluster" --agents 1 --registry-use "k3d-$registry:$registry_port" \
  --k3s-arg "--disable=traefik@server:0" --kubeconfig-update-default=false --wait
k3d kubeconfig get "$cluster" > "$kubeconfig"
k3d image import -c "$cluster" "$image"

echo "=== the test guest in the cluster's registry"
read -r guest_dir guest_tag < <(scripts/guest/oci-image.sh | tail -1)
skopeo copy -q --dest-tls-verify=false "oci:$guest_dir/oci:$guest_tag" \
  "docker://127.0.0.1:$registry_port/kubevirt/cirros-registry-disk-demo:devel"

echo "=== bunvirt: overlays/k3d with image $image"
overlay=$repo/deploy/kustomize/overlays/k3d
mkdir -p "$work/overlay"
cat > "$work/overlay/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$work/overlay" "$overlay")
images:
  - name: ghcr.io/bunvirt/bunvirt
    newName: ${image%:*}
    newTag: ${image##*:}
configMapGenerator:
  - name: bunvirt-config
    behavior: merge
    options:
      disableNameSuffixHash: true
    literals:
      - registry=k3d-$registry:$registry_port
      - insecure-registry=k3d-$registry:$registry_port
YAML
"$kubectl" --kubeconfig "$kubeconfig" kustomize --load-restrictor=LoadRestrictionsNone "$work/overlay" > "$work/bunvirt.yaml"
"$kubectl" --kubeconfig "$kubeconfig" apply --server-side -f "$work/bunvirt.yaml"
"$kubectl" --kubeconfig "$kubeconfig" -n bunvirt rollout status deployment/bunvirt-controller --timeout=300s
"$kubectl" --kubeconfig "$kubeconfig" -n bunvirt rollout status daemonset/bunvirt-handler --timeout=300s
"$kubectl" --kubeconfig "$kubeconfig" -n bunvirt wait --for=condition=Ready pod --all --timeout=300s

echo "=== end-to-end suite"
BUNVIRT_E2E_KUBECONFIG=$kubeconfig BUNVIRT_E2E_KUBECTL=$kubectl \
  BUNVIRT_E2E_PROBE_IMAGE=${BUNVIRT_E2E_PROBE_IMAGE:-docker.io/library/busybox:1.36} \
  bun test --timeout 900000 ./tests/cluster/e2e.test.ts
