#!/usr/bin/env bash
# make bench: hull against runc and crun on the same busybox bundles,
# interleaved, medians and ratios; writes the table into README.md and draws
# docs/bench.svg. Root only. See hack/bench.py for how each number is taken.
#
#   hack/bench.sh                  # full run (a few minutes)
#   BENCH_ROUNDS=3 BENCH_BATCH_ROUNDS=1 hack/bench.sh   # quick check
#   BENCH_NO_WRITE=1 hack/bench.sh # print the table, leave README and svg alone
#   BENCH_STATE_DIR=/run hack/bench.sh  # the runtimes' --root dirs elsewhere (default /dev/shm)
#
# Every runtime runs inside one private mount namespace with the unified
# cgroup hierarchy unmounted: Debian's crun 1.8.1 refuses the hybrid layout
# ("cgroups in hybrid mode not supported"), and hull and runc get the same
# view so the comparison stays fair. The host's mounts are never changed.
set -euo pipefail
cd "$(dirname "$0")/.."

HULL=${HULL:-target/release/hull}
RUNC=${RUNC:-/usr/sbin/runc}
CRUN=${CRUN:-/usr/bin/crun}
CARGO=${CARGO:-$(command -v cargo || echo "$HOME/.cargo/bin/cargo")}

if [ "$(id -u)" != 0 ]; then
    echo "bench: needs root (containers, namespaces, cgroups)" >&2
    exit 1
fi

# What the measurements use; installed only when missing.
missing=""
for pkg in busybox-static runc crun strace time util-linux; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    echo "bench: installing:$missing" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
if [ ! -x "$HULL" ]; then
    "$CARGO" build --release
fi

# Run first thing in the private mount namespace. Unmounting cgroup2 alone is
# not enough: crun then still makes <id>/cgroup.procs under the directory the
# mount hid, in the host's /sys/fs/cgroup tmpfs, and never removes them. An
# empty tmpfs of our own there takes those writes and vanishes with the namespace.
private_view='
    set -e
    if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
    if [ -d /sys/fs/cgroup/unified ]; then mount -t tmpfs -o size=64m,mode=755 bench-unified /sys/fs/cgroup/unified; fi
'

work=$(mktemp -d /tmp/hull-bench.XXXXXX)
# The runtimes' state on a tmpfs, as /run is on a systemd host (see bench.py).
state_parent=${BENCH_STATE_DIR:-/dev/shm}
if [ "$(stat -f -c %T "$state_parent" 2>/dev/null)" != tmpfs ]; then state_parent=$work; fi
state=$(mktemp -d "$state_parent/hull-bench-state.XXXXXX")
cleanup() {
    status=$?
    trap - EXIT INT TERM
    # A second net behind the driver's own cleanup (it may have been killed):
    # delete what is left, in the same mount view the runtimes had.
    unshare -m --propagation private sh -c "$private_view"'
        exec python3 hack/bench.py --cleanup-only "$@"' bench \
        --work "$work" --state "$state" --hull "$HULL" --runc "$RUNC" --crun "$CRUN" --run-id "$$" || true
    rm -rf "$state" "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "bench: making bundles in $work" >&2
hack/mkbundle.sh "$work/true" "$HULL" /bin/true
hack/mkbundle.sh "$work/sleep" "$HULL" sleep 0.5

write=(--readme README.md --svg docs/bench.svg)
if [ -n "${BENCH_NO_WRITE:-}" ]; then write=(); fi

unshare -m --propagation private sh -c "$private_view"'
    exec python3 hack/bench.py "$@"' bench \
    --work "$work" --state "$state" --hull "$HULL" --runc "$RUNC" --crun "$CRUN" --run-id "$$" "${write[@]}"
