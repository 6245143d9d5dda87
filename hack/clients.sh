#!/usr/bin/env bash
# Runs real engines against a runtime binary: containerd (ctr), podman and
# dockerd, each in a private state directory, each started and stopped here.
# Usage: hack/clients.sh [RUNTIME]   (default target/release/hull)
# Prints one line per check and "clients: N passed, N failed".
set -uo pipefail
runtime=$(readlink -f "${1:-target/release/hull}")
work=$(mktemp -d /tmp/hull-clients.XXXXXX)
pids=()
passed=0 failed=0
# The engines make these cgroup parents; remove the ones this run made, once empty.
parents=()
for hierarchy in /sys/fs/cgroup/*/; do
    for name in hull docker libpod_parent; do
        [ -e "$hierarchy$name" ] || parents+=("$hierarchy$name")
    done
done
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    # Mounts the engines left under our own directory only.
    grep -o " $work[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
    rm -rf "$work"
    for dir in "${parents[@]}"; do
        [ -d "$dir" ] && find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
}
trap cleanup EXIT

check() {
    local name=$1 want=$2; shift 2
    local out
    out=$(timeout 120 "$@" 2>&1 </dev/null)
    if [[ "$out" == *"$want"* ]]; then
        echo "ok - $name"; passed=$((passed + 1))
    else
        echo "not ok - $name: wanted '$want', got: $(echo "$out" | tail -5 | tr '\n' ' ')"; failed=$((failed + 1))
    fi
}

wait_for_socket() {
    for _ in $(seq 1 200); do [ -S "$1" ] && return 0; sleep 0.1; done
    echo "socket $1 never appeared" >&2; return 1
}

# A busybox rootfs, as a directory and as an image tarball.
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev" "$work/rootfs/tmp"
cp /bin/busybox "$work/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$work/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/rootfs/etc/passwd"
echo 'root:x:0:' > "$work/rootfs/etc/group"
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .

probe='echo pid=$$ host=$(hostname) uid=$(id -u)'

# containerd, as the shim runc v2 calls the runtime.
mkdir -p "$work/containerd"
cat > "$work/containerd/config.toml" <<TOML
version = 2
root = "$work/containerd/root"
state = "$work/containerd/state"
[grpc]
  address = "$work/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  disable_apparmor = true
  restrict_oom_score_adj = true
TOML
containerd --config "$work/containerd/config.toml" >"$work/containerd/log" 2>&1 &
pids+=($!)
wait_for_socket "$work/containerd/containerd.sock" || exit 1
ctr=(ctr --address "$work/containerd/containerd.sock" --namespace hull)
check "ctr run" "pid=1 host=" "${ctr[@]}" run --rm --runc-binary "$runtime" --rootfs "$work/rootfs" c1 /bin/sh -c "$probe"
check "ctr run exit code" "exit=7" sh -c "${ctr[*]} run --rm --runc-binary $runtime --rootfs $work/rootfs c2 /bin/sh -c 'exit 7'; echo exit=\$?"
"${ctr[@]}" run -d --runc-binary "$runtime" --rootfs "$work/rootfs" c3 /bin/sleep 1000 >/dev/null 2>&1
check "ctr exec" "in-exec" "${ctr[@]}" task exec --exec-id e1 c3 /bin/sh -c 'echo in-exec'
check "ctr task ps" "PID" "${ctr[@]}" task ps c3
check "ctr pause" "PAUSED" sh -c "${ctr[*]} task pause c3 && ${ctr[*]} task ls"
check "ctr resume" "RUNNING" sh -c "${ctr[*]} task resume c3 && ${ctr[*]} task ls"
check "ctr kill and delete" "deleted" sh -c "${ctr[*]} task kill -s KILL c3; ${ctr[*]} task delete c3 >/dev/null 2>&1 || { sleep 1; ${ctr[*]} task delete c3; }; ${ctr[*]} container delete c3 && echo deleted"

# podman with conmon.
podman=(podman --root "$work/podman/root" --runroot "$work/podman/run" --cgroup-manager cgroupfs --events-backend file --runtime "$runtime")
common=(--rm --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 --network none)
check "podman run" "pid=1 host=" "${podman[@]}" run "${common[@]}" --rootfs "$work/rootfs" sh -c "$probe"
check "podman run exit code" "exit=3" sh -c "${podman[*]} run ${common[*]} --rootfs $work/rootfs sh -c 'exit 3'; echo exit=\$?"
check "podman memory limit" "memory=67108864" "${podman[@]}" run "${common[@]}" -m 64m --rootfs "$work/rootfs" sh -c 'echo memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)'

# dockerd on the same containerd.
mkdir -p "$work/docker"
dockerd --containerd "$work/containerd/containerd.sock" --data-root "$work/docker/root" --exec-root "$work/docker/exec" \
    --pidfile "$work/docker/pid" -H "unix://$work/docker/docker.sock" --iptables=false --ip-masq=false --bridge=none \
    --add-runtime "hull=$runtime" --default-runtime hull >"$work/docker/log" 2>&1 &
pids+=($!)
if wait_for_socket "$work/docker/docker.sock"; then
    docker=(docker -H "unix://$work/docker/docker.sock")
    "${docker[@]}" import "$work/rootfs.tar" hull-busybox >/dev/null
    dcommon=(--rm --network none)
    check "docker run" "pid=1 host=" "${docker[@]}" run "${dcommon[@]}" hull-busybox sh -c "$probe"
    check "docker run volume" "volume-ok" "${docker[@]}" run "${dcommon[@]}" -v "$work/rootfs/etc:/data:ro" hull-busybox sh -c 'test -f /data/passwd && ! touch /data/x 2>/dev/null && echo volume-ok'
    check "docker limits" "pids=100" "${docker[@]}" run "${dcommon[@]}" --pids-limit 100 --cpus 1.5 -m 128m hull-busybox sh -c 'echo pids=$(cat /sys/fs/cgroup/pids/pids.max)'
    "${docker[@]}" run -d --name d1 --network none hull-busybox sleep 1000 >/dev/null 2>&1
    check "docker exec" "exec-ok" "${docker[@]}" exec d1 sh -c 'echo exec-ok'
    check "docker top" "sleep" "${docker[@]}" top d1
    check "docker stop" "d1" "${docker[@]}" rm -f d1
else
    echo "not ok - dockerd did not start: $(tail -3 "$work/docker/log")"; failed=$((failed + 1))
fi

echo "clients: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
