#!/usr/bin/env bash
# A local OCI registry (Debian's docker-registry, distribution 2.8) on
# 127.0.0.1 (or another local address) that serves the test guest as a
# KubeVirt containerDisk.
#
#   scripts/guest/registry.sh start    run it (nothing to do when it already runs)
#   scripts/guest/registry.sh push     build the image if needed, start, push it as
#                                      bunvirt/guest:<VERSION> and
#                                      kubevirt/cirros-registry-disk-demo:devel
#   scripts/guest/registry.sh status   exit 0 when it runs and answers
#   scripts/guest/registry.sh stop     stop it (nothing to do when it does not run)
#
# Environment:
#   BUNVIRT_REGISTRY_ADDR  the local IPv4 address it listens on (default 127.0.0.1;
#                          the cluster tier uses the host end of its node's veth,
#                          10.250.0.1, so pods reach it too)
#   BUNVIRT_REGISTRY_PORT  port (default 5000)
#   BUNVIRT_REGISTRY_DIR   config.yml, storage/, registry.pid, registry.log
#                          (default /var/cache/bunvirt/registry)
#
# Needs (Debian): docker-registry, skopeo, curl, plus what oci-image.sh needs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PORT=${BUNVIRT_REGISTRY_PORT:-5000}
BIND=${BUNVIRT_REGISTRY_ADDR:-127.0.0.1}
DIR=${BUNVIRT_REGISTRY_DIR:-/var/cache/bunvirt/registry}
CONFIG="$DIR/config.yml"
PIDFILE="$DIR/registry.pid"
LOGFILE="$DIR/registry.log"
ADDR="$BIND:$PORT"
SEED_NAME="kubevirt/cirros-registry-disk-demo:devel" # the example manifest's image

log() { echo "registry.sh: $*" >&2; }
die() {
	echo "registry.sh: $*" >&2
	exit 1
}
need() {
	command -v "$1" >/dev/null || die "Cannot $2: '$1' is missing (apt-get install $3)"
}

[[ $PORT =~ ^[0-9]+$ ]] || die "Cannot use port '$PORT': not a number"
[[ $BIND =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "Cannot use address '$BIND': not an IPv4 address"

# Prints the pid of our registry when it is alive, else fails.
running_pid() {
	local pid
	[[ -f $PIDFILE ]] || return 1
	pid=$(<"$PIDFILE")
	[[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CONFIG" || return 1
	echo "$pid"
}

# The address:port the running registry's config names.
configured_addr() { sed -n 's/^  addr: \([0-9.]*:[0-9]*\)$/\1/p' "$CONFIG" 2>/dev/null; }

answers() { curl -fsS -o /dev/null --max-time 2 "http://$ADDR/v2/" 2>/dev/null; }

start() {
	need docker-registry "start the registry" docker-registry
	need curl "start the registry" curl
	local pid
	if pid=$(running_pid); then
		local running_addr
		running_addr=$(configured_addr)
		[[ $running_addr == "$ADDR" ]] || die "Cannot start the registry on '$ADDR': the one in '$DIR' already runs on '$running_addr' (pid $pid)"
		for _ in $(seq 50); do
			answers && {
				log "already running on $ADDR (pid $pid)"
				return 0
			}
			sleep 0.1
		done
		die "Cannot use the registry on '$ADDR': pid $pid runs but '/v2/' does not answer (log: '$LOGFILE')"
	fi
	rm -f "$PIDFILE"
	if answers; then
		die "Cannot start the registry on '$ADDR': something else answers there already"
	fi
	mkdir -p "$DIR/storage"
	cat >"$CONFIG" <<EOF
# written by scripts/guest/registry.sh
version: 0.1
log:
  level: info
  fields:
    service: bunvirt-registry
storage:
  filesystem:
    rootdirectory: $DIR/storage
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $ADDR
  headers:
    X-Content-Type-Options: [nosniff]
EOF
	# Its own session: survives the caller's terminal and process group.
	# (Clear REGISTRY_* so the environment cannot override this config.)
	local unset=() v
	for v in $(compgen -e); do
		[[ $v != REGISTRY_* ]] || unset+=(-u "$v")
	done
	env "${unset[@]}" setsid docker-registry serve "$CONFIG" </dev/null >>"$LOGFILE" 2>&1 &
	pid=$!
	echo "$pid" >"$PIDFILE"
	for _ in $(seq 100); do
		if answers; then
			log "started on $ADDR (pid $pid, storage $DIR/storage)"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$PIDFILE"
			die "Cannot start the registry on '$ADDR': docker-registry exited: $(tail -n 3 "$LOGFILE" | tr '\n' ' ')"
		fi
		sleep 0.1
	done
	die "Cannot start the registry on '$ADDR': '/v2/' did not answer within 10 s (pid $pid, log '$LOGFILE')"
}

stop() {
	local pid
	if ! pid=$(running_pid); then
		rm -f "$PIDFILE"
		log "not running"
		return 0
	fi
	kill -TERM "$pid"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid ignored SIGTERM for 10 s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$PIDFILE"
	log "stopped (pid $pid)"
}

push() {
	need skopeo "push the guest image" skopeo
	local out layout version ref
	out=$("$HERE/oci-image.sh")
	read -r layout version <<<"$out"
	start
	for ref in "bunvirt/guest:$version" "$SEED_NAME"; do
		skopeo copy --quiet --dest-tls-verify=false "oci:$layout:$version" "docker://$ADDR/$ref" >&2 ||
			die "Cannot push 'oci:$layout:$version' to '$ADDR/$ref'"
		log "pushed $ADDR/$ref"
		echo "$ADDR/$ref"
	done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
push) push ;;
status)
	if pid=$(running_pid) && answers; then
		log "running on $ADDR (pid $pid)"
	else
		die "not running on '$ADDR' (dir '$DIR')"
	fi
	;;
*) die "Cannot parse arguments: '$*' (usage: registry.sh start|stop|push|status)" ;;
esac
