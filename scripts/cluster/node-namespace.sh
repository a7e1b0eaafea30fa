#!/bin/sh
# The node's namespace holder. Run as
#   unshare --net --mount --propagation private --fork scripts/cluster/node-namespace.sh DIR
# it prepares the private network and mount namespace the node's containerd
# and kubelet join (nsenter -t <its pid> -n -m), prints
# "bunvirt-node-ready <pid>", and holds the namespaces until its stdin closes.
#
# Inside: loopback up; a fresh /run (containerd, runc and the CNI plugins keep
# their state and pod network namespaces there); DIR/var-lib and DIR/var-log
# over /var/lib and /var/log; and the six sysctls the kubelet sets
# (vm.overcommit_memory, vm.panic_on_oom, kernel.panic, kernel.panic_on_oops,
# kernel.keys.root_maxkeys/maxbytes) covered by files holding the values it
# wants, so the host's stay untouched.
set -eu
dir=$1
if [ "$(readlink /proc/$$/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ] || [ "$(readlink /proc/$$/ns/net)" = "$(readlink /proc/1/ns/net)" ]; then
  echo "Cannot prepare the node namespace: not in private network and mount namespaces (run it under unshare --net --mount)" >&2
  exit 1
fi
ip link set lo up
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/netns "$dir/var-lib" "$dir/var-log" "$dir/sysctl"
mount --bind "$dir/var-lib" /var/lib
mount --bind "$dir/var-log" /var/log
for kv in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 \
  kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
  key=${kv%%=*}
  file=$dir/sysctl/$(echo "$key" | tr / _)
  echo "${kv#*=}" > "$file"
  mount --bind "$file" "/proc/sys/$key"
done
echo "bunvirt-node-ready $$"
while read -r _line; do :; done
