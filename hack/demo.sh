#!/usr/bin/env bash
# Runs one container from a busybox bundle and shows what it sees.
set -euo pipefail
hull=${1:-target/release/hull}
bundle=${2:-target/demo-bundle}
root=$(mktemp -d /tmp/hull-demo-root.XXXXXX)
trap 'rm -rf "$root"' EXIT
hack/mkbundle.sh "$bundle" "$hull" sh -c '
echo "hostname:   $(hostname)"
echo "my pid:     $$ (pid 1 is $(cat /proc/1/comm))"
echo "user:       $(id)"
echo "caps:       $(grep CapEff /proc/self/status)"
echo "processes:  $(ps -o pid= | wc -l) visible"
echo "root:       $(grep " / " /proc/mounts)"
echo "mounts:"; cut -d" " -f2,3 /proc/mounts | sed "s/^/  /"'
echo "== hull run demo (bundle $bundle)"
"$hull" --root "$root" run --bundle "$bundle" "demo-$$"
