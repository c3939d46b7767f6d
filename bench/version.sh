#!/bin/bash
# version.sh - debkeep's version comparison against libdpkg's, on every version in bookworm (amd64 + arm64).
#
#   bench/version.sh [VERSION_BENCH [DEBKEEP]]
#
# VERSION_BENCH is build/bench/version-bench (built when libdpkg-dev is installed), also from
# $VERSION_BENCH. It sorts the versions with qsort() and compares the sorted neighbours plus 1M
# random pairs, once with dk_version_cmp() and once with dpkg_version_compare(), both on versions
# parsed beforehand, and prints the times and libdpkg/debkeep (above 1 means debkeep is faster;
# it exits 1 if debkeep is slower). With DEBKEEP (or $DEBKEEP), it also times
# `debkeep version compare --batch` on 1M random lines.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bench=${1:-${VERSION_BENCH:-$here/../build/bench/version-bench}}
debkeep=${2:-${DEBKEEP:-}}
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}
[ -x "$bench" ] || { echo "version.sh: no version-bench at '$bench' (needs libdpkg-dev)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for arch in amd64 arm64; do
	"$here/../tests/lib/apt-data.sh" "$cache" "$arch"
done > "$tmp/indices"
mapfile -t indices < "$tmp/indices"
awk '/^Version:/ { print $2 }
     /^Source:/ && /\(/ { s = $0; sub(/.*\(/, "", s); sub(/\).*/, "", s); print s }' "${indices[@]}" |
	LC_ALL=C sort -u > "$tmp/versions"

rc=0
"$bench" --bench --pairs 1000000 --rounds 5 "$tmp/versions" || rc=$?

if [ -n "$debkeep" ]; then
	paste -d' ' <(shuf -r -n 1000000 --random-source=<(yes) "$tmp/versions") \
		<(shuf -r -n 1000000 --random-source=<(yes 1) "$tmp/versions") > "$tmp/pairs"
	start=$(date +%s.%N)
	"$debkeep" version compare --batch < "$tmp/pairs" > /dev/null
	end=$(date +%s.%N)
	awk -v s="$start" -v e="$end" 'BEGIN { printf "debkeep version compare --batch: 1000000 lines in %.3f s\n", e - s }'
fi
exit $rc
