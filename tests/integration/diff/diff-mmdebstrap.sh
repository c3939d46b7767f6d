#!/bin/bash
# diff-mmdebstrap.sh - two real mmdebstrap builds of one tiny package set (essential + openssh-server)
# with build times an hour apart, compared with debkeep diff, as TAP. The builds differ by the SSH
# host keys openssh-server's postinst generates and by the times of files made during the build;
# debkeep must name exactly those causes, and the package and script that made the keys.
# Needs root and the archive through the host's apt sources; the two tarballs are cached.
#   diff-mmdebstrap.sh DEBKEEP
set -u
bin=$1
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}/diff-mmdebstrap
if [ "$(id -u)" != 0 ] || ! command -v mmdebstrap >/dev/null; then
	echo "1..0 # SKIP needs root and mmdebstrap (apt-get install mmdebstrap)"
	exit 0
fi
sources=
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
	[ -s "$f" ] && { sources=$f; break; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/debkeep-mmdebstrap.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$cache"
build() {
	local out=$1 epoch=$2
	[ -s "$out" ] && return 0
	SOURCE_DATE_EPOCH=$epoch mmdebstrap --quiet --mode=root --variant=essential --include=openssh-server \
		--skip=cleanup/apt/lists bookworm "$out.tmp.tar" "$sources" >"$tmp/mmdebstrap.log" 2>&1 &&
		mv "$out.tmp.tar" "$out"
}
if ! build "$cache/a.tar" 1700000000 || ! build "$cache/b.tar" 1700003600; then
	echo "1..0 # SKIP mmdebstrap could not build (no archive?): $(tail -n1 "$tmp/mmdebstrap.log")"
	exit 0
fi
n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
start=$(date +%s)
"$bin" diff --json "$cache/a.tar" "$cache/b.tar" >"$tmp/out.json" 2>"$tmp/err"
st=$?
secs=$(($(date +%s) - start))
ok $([ $st = 1 ]; echo $?) "two builds differ (exit $st, ${secs}s)"
causes=$(python3 -c 'import json,sys; print(" ".join(c["cause"] for c in json.load(open(sys.argv[1]))["summary"]["causes"]))' \
	"$tmp/out.json")
echo "# causes: $causes"
[ "$causes" = "ssh-host-keys mtime-only" ]
ok $? "exactly two causes: SSH host keys and mtime only"
python3 - "$tmp/out.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
keys = [d for d in r["differences"] if d["cause"] == "ssh-host-keys"]
assert keys, "no host keys"
bad = [d["path"] for d in keys if d["package"] != "openssh-server" or d["script"] != "postinst"]
assert not bad, bad
PY
ok $? "every host key is owned by openssh-server's postinst"
"$bin" diff "$cache/a.tar" "$cache/b.tar" | head -8 | sed 's/^/# /'
echo "1..$n"
[ "$failed" = 0 ]
