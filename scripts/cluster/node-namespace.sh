#!/bin/sh
# The node's namespace holder. Run as
#   unshare --net --mount --propagation private scripts/cluster/node-namespace.sh DIR
# it prepares the private network and mount namespace the node's containerd
# and kubelet join (nsenter -t <its pid> -n -m), prints
# "bunvirt-node-ready <pid>", and holds the namespaces until its stdin closes.
# Then it ends whatever still runs in its mount namespace (TERM, 10 s, KILL)
# and in the kubelet's kubepods cgroups (containers), removes those cgroups, so a test runner that died
# without stopping the node leaves nothing either; the namespaces and the
# veth pair go when the last process in them does.
#
# Inside: loopback up; a fresh /run (containerd, runc and the CNI plugins keep
# their state and pod network namespaces there); DIR/var-lib and DIR/var-log
# over /var/lib and /var/log; and the six sysctls the kubelet sets
# (vm.overcommit_memory, vm.panic_on_oom, kernel.panic, kernel.panic_on_oops,
# kernel.keys.root_maxkeys/maxbytes) covered by files holding the values it
# wants, so the host's stay untouched. IPv4 forwarding on in this network
# namespace only (pods <-> the host end, Services). Every mount shared within
# the namespace (new peer groups, none with the host's), so mounts the kubelet
# makes under /var/lib/kubelet/pods reach containers that ask for
# HostToContainer propagation.
set -eu
dir=$1
if [ "$(readlink /proc/$$/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ] || [ "$(readlink /proc/$$/ns/net)" = "$(readlink /proc/1/ns/net)" ]; then
  echo "Cannot prepare the node namespace: not in private network and mount namespaces (run it under unshare --net --mount)" >&2
  exit 1
fi
ip link set lo up
echo 1 > /proc/sys/net/ipv4/ip_forward
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
mount --make-rshared /
echo "bunvirt-node-ready $$"
while read -r _line; do :; done

# Cleanup must run to its end: no errexit from here.
set +e
ns=$(readlink /proc/$$/ns/mnt)
# In this shell, not a subshell: the list never holds a helper of its own.
collect() {
  left=""
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = "$$" ] && continue
    if [ "$(readlink "$d/ns/mnt" 2>/dev/null)" = "$ns" ]; then left="$left $p"; fi
  done
}
collect
[ -z "$left" ] || kill -TERM $left 2>/dev/null || true
i=0
while [ $i -lt 100 ]; do
  collect
  [ -z "$left" ] && break
  sleep 0.1
  i=$((i + 1))
done
[ -z "$left" ] || kill -KILL $left 2>/dev/null || true
# Containers have mount namespaces of their own: find them by the kubelet's cgroups.
i=0
while [ $i -lt 50 ]; do
  pids=$(find /sys/fs/cgroup/*/kubepods* -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
  [ -z "$pids" ] && break
  kill -KILL $pids 2>/dev/null
  sleep 0.1
  i=$((i + 1))
done
for c in /sys/fs/cgroup/*/kubepods*; do
  if [ -d "$c" ]; then find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; fi
done
