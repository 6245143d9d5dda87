#!/bin/sh
# Makes an OCI bundle at $1 (default ./bundle): a busybox-static rootfs and
# hull's default config.json, adjusted to run without a terminal.
# Usage: hack/mkbundle.sh [DIR] [HULL_BINARY] [ARGS...]
set -eu
dir=${1:-bundle}
hull=$(readlink -f "${2:-target/release/hull}")
if [ $# -ge 2 ]; then shift 2; else shift $#; fi
busybox=$(command -v busybox || echo /bin/busybox)
if ! "$busybox" --list >/dev/null 2>&1 || ldd "$busybox" >/dev/null 2>&1; then
    echo "mkbundle: needs busybox-static (apt-get install busybox-static)" >&2
    exit 1
fi
rm -rf "$dir"
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/etc" "$dir/rootfs/tmp" "$dir/rootfs/root"
cp "$busybox" "$dir/rootfs/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/rootfs/etc/passwd"
echo 'root:x:0:' > "$dir/rootfs/etc/group"
"$hull" spec --bundle "$dir"
# No terminal: the bundle runs under pipes, in tests and in benchmarks.
python3 - "$dir/config.json" "$@" <<'PY'
import json, sys
path, args = sys.argv[1], sys.argv[2:] or ["sh"]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = args
json.dump(c, open(path, "w"), indent=2)
PY
