#!/usr/bin/env bash
# Builds the conformance suite and runs it against one or more OCI runtimes.
#
#   runtime-tools-tests/run.sh --runtime /abs/path/to/runtime [--runtime ...] [runner options]
#   RUNTIME=/usr/sbin/runc runtime-tools-tests/run.sh
#
# Several runtimes print one column each. crun 1.8.1 refuses this host's
# hybrid cgroup layout, so when crun is among the runtimes, or several are
# compared (the same conditions for all), the runner runs in a private mount
# namespace where the unified hierarchy is unmounted (an empty tmpfs in its
# place); the host's mounts are never changed. Runner options: --known-gaps FILE, --only PREFIX, -v.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cargo=${CARGO:-$(command -v cargo || echo "$HOME/.cargo/bin/cargo")}

runtimes=()
rest=()
while [ $# -gt 0 ]; do
    case $1 in
        --runtime) runtimes+=("$2"); shift 2 ;;
        --runtime=*) runtimes+=("${1#--runtime=}"); shift ;;
        *) rest+=("$1"); shift ;;
    esac
done
if [ ${#runtimes[@]} -eq 0 ]; then
    read -r -a runtimes <<<"${RUNTIME:-}"
fi
if [ ${#runtimes[@]} -eq 0 ]; then
    echo "usage: $0 --runtime /abs/path/to/runtime [--runtime ...]  (or RUNTIME=...)" >&2
    exit 2
fi

target=x86_64-unknown-linux-gnu
# The checker is copied into busybox rootfses: it must be static.
(cd "$here" && RUSTFLAGS="-C target-feature=+crt-static" "$cargo" build --release --quiet --target "$target")
bin="$here/target/$target/release"

args=()
private=no
for r in "${runtimes[@]}"; do
    abs=$(readlink -f "$(command -v "$r" || echo "$r")")
    args+=(--runtime "$abs")
    [ "$(basename "$abs")" = crun ] && private=yes
done
[ ${#runtimes[@]} -gt 1 ] && private=yes
args+=(--checker "$bin/checker" ${rest[@]+"${rest[@]}"})

if [ $private = yes ] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    # An empty tmpfs over the unmounted dir (as hack/bench.sh does): what crun
    # makes there lands in it and goes with the namespace, not on the host's
    # /sys/fs/cgroup tmpfs.
    exec unshare -m --propagation private sh -c '
        umount /sys/fs/cgroup/unified &&
        mount -t tmpfs -o size=16m,mode=755 rtt-unified /sys/fs/cgroup/unified &&
        exec "$@"' sh "$bin/runner" "${args[@]}"
fi
exec "$bin/runner" "${args[@]}"
