#!/bin/bash
# version-archive.sh - debkeep orders every version in the bookworm archive (amd64 and arm64) as dpkg does.
#
#   tests/integration/version-archive.sh [DEBKEEP [VERSION_BENCH]]
#
# Binaries also come from $DEBKEEP and $VERSION_BENCH (bench/version-bench, which links libdpkg).
# The indices come through tests/lib/apt-data.sh, cached in $DEBKEEP_TEST_CACHE
# (default /var/cache/debkeep-test). Prints TAP; exit 0 when every test passed.
#  (a) libdpkg oracle: validity of every Version and `Source: x (v)` version, the archive sorted by
#      debkeep with every adjacent pair and ~1M random pairs checked against dpkg_version_compare(),
#      and the same on mutated copies (which include versions dpkg rejects).
#  (b) the real `dpkg --compare-versions` on a few thousand random pairs and edge cases, against
#      `debkeep version compare --batch`.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
debkeep=${1:-${DEBKEEP:-}}
bench=${2:-${VERSION_BENCH:-}}
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}
npairs=${VERSION_DPKG_PAIRS:-3000}
n=0
failed=0

ok() { # ok COND-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

[ -x "$debkeep" ] || skip_all "no debkeep binary (argument 1 or DEBKEEP)"
[ -x "$bench" ] || skip_all "no version-bench binary (argument 2 or VERSION_BENCH; needs libdpkg-dev)"
command -v dpkg >/dev/null || skip_all "no dpkg"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

indices=()
for arch in amd64 arm64; do
	idx=$("$here/../lib/apt-data.sh" "$cache" "$arch" 2>"$tmp/apt-$arch.log") ||
		skip_all "no $arch index from apt-data.sh ($(tail -n1 "$tmp/apt-$arch.log"))"
	indices+=("$idx")
done

# Version: fields, and the version in `Source: name (version)` (a binNMU's source version).
awk '/^Version:/ { print $2 }
     /^Source:/ && /\(/ { s = $0; sub(/.*\(/, "", s); sub(/\).*/, "", s); print s }' "${indices[@]}" |
	LC_ALL=C sort -u > "$tmp/versions"
count=$(wc -l < "$tmp/versions")
[ "$count" -ge 10000 ]
ok $? "$count distinct versions from the amd64 and arm64 indices"

# (a) libdpkg as the oracle.
"$bench" --check --pairs 1000000 --seed 1 "$tmp/versions" > "$tmp/check" 2> "$tmp/check.err"
rc=$?
val() { sed -n "s/^$1=//p" "$tmp/check"; }
for set in archive mutated; do
	strings=$(val "$set.strings") valid=$(val "$set.valid")
	[ "$(val "$set.validity_mismatches")" = 0 ]
	ok $? "$set: validity of $strings strings ($valid valid) agrees with parseversion()"
	[ "$(val "$set.adjacent_mismatches")" = 0 ]
	ok $? "$set: sorted by debkeep, all $(val "$set.adjacent_pairs") adjacent comparisons agree with dpkg_version_compare()"
	[ "$(val "$set.random_mismatches")" = 0 ]
	ok $? "$set: $(val "$set.random_pairs") random pairs agree with dpkg_version_compare()"
	[ "$(val "$set.self_mismatches")" = 0 ]
	ok $? "$set: every version equals itself"
done
ok $rc "version-bench --check exits 0"
[ $rc -eq 0 ] || head -n 20 "$tmp/check.err" | sed 's/^/# /'

# (b) the dpkg binary. Random archive pairs, with fixed edge cases (some of them invalid) in front.
{
	cat <<'EDGES'
1.0~rc1 1.0
1.0~~ 1.0~
1.0~~a 1.0~~
1.0 1.0-0
1.0 1.00
1.01 1.1
1.0a 1.0+
1.0Z 1.0a
1:0.1 2.0
2:1 10:0
1.2-3-4 1.2-3
2.30-7+deb12u1+cip1 2.30-7+deb12u1
1.99999999999999999999999 1.100000000000000000000000
0:1 1
+1:2 1:2
-0:1 1
1: 2
-1:0 1
2147483648:1 1
:1 1
1.0- 1.0
a:1 1
1.0-1:2 1
abc 1
1.0$ 1.0
EDGES
	paste -d' ' <(shuf -n "$npairs" --random-source=<(yes) "$tmp/versions") \
		<(shuf -n "$npairs" --random-source=<(yes 1) "$tmp/versions")
} > "$tmp/pairs"
pairs=$(wc -l < "$tmp/pairs")

# dpkg answers lt/eq/gt through exit codes; 2 means it rejected a version. "--" keeps "-0:1" from
# reading as an option.
# shellcheck disable=SC2016
tr ' ' '\n' < "$tmp/pairs" | xargs -d '\n' -P2 -n 200 sh -c '
	while [ $# -ge 2 ]; do
		if dpkg --compare-versions -- "$1" lt "$2" 2>/dev/null; then r=-1
		else
			dpkg --compare-versions -- "$1" eq "$2" 2>/dev/null
			case $? in 0) r=0 ;; 1) r=1 ;; *) r=error ;; esac
		fi
		printf "%s %s %s\n" "$1" "$2" "$r"
		shift 2
	done' sh | LC_ALL=C sort > "$tmp/dpkg"
"$debkeep" version compare --batch < "$tmp/pairs" > "$tmp/debkeep.out"
brc=$?
[ "$brc" -eq 2 ]
ok $? "debkeep version compare --batch exits 2 when a line is an error"
paste -d' ' "$tmp/pairs" <(sed 's/^error: .*/error/' "$tmp/debkeep.out") | LC_ALL=C sort > "$tmp/debkeep"
[ "$(wc -l < "$tmp/dpkg")" -eq "$pairs" ]
ok $? "dpkg --compare-versions answered all $pairs pairs"
diff "$tmp/dpkg" "$tmp/debkeep" > "$tmp/diff"
ok $? "debkeep --batch agrees with dpkg --compare-versions on all $pairs pairs ($(grep -c ' error$' "$tmp/dpkg") rejected by both)"
head -n 20 "$tmp/diff" | sed 's/^/# /'

echo "1..$n"
[ "$failed" -eq 0 ]
