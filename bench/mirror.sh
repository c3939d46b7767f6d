#!/bin/bash
# mirror.sh - the index work of `debkeep mirror update` beside `aptly mirror update` (-filter-with-deps),
# on the same signed upstream served over HTTP by `debkeep serve`: the real bookworm main amd64 Packages
# (about 63,000 stanzas, from tests/lib/apt-data.sh, as Packages.gz and .xz like the archive's), the CIP example
# list (docs/examples/cip-core.yaml: Priority required plus its packages, with dependencies), and a pool
# holding that closure's .debs, hard-linked from the data root tests/integration/mirror/mirror-real.sh
# keeps in /var/cache/debkeep-test/mirror-bookworm-amd64 (run it first).
# Both tools mirror once (downloading the .debs), then the timed runs are updates with nothing new:
# fetch and verify InRelease and the index, decompress, parse, resolve the list, check every kept
# package against what is stored. Prints the best wall time over RUNS runs and the peak RSS
# (/usr/bin/time -v) of each, and the ratios. Targets for debkeep: under 1 s and 150 MB.
#
#   bench/mirror.sh [DEBKEEP] [RUNS]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
debkeep=$(realpath "${1:-$top/build/src/debkeep}")
runs=${2:-3}
cache=${DEBKEEP_MIRROR_CACHE:-/var/cache/debkeep-test/mirror-bookworm-amd64}
work=$cache/bench
for t in aptly /usr/bin/time xz jq sqlite3; do
	command -v "$t" > /dev/null || { echo "mirror.sh: $t is needed" >&2; exit 2; }
done
[ -e "$cache/root/debkeep.db" ] ||
	{ echo "mirror.sh: no $cache/root: run tests/integration/mirror/mirror-real.sh first" >&2; exit 2; }
tmp=$(mktemp -d)
server=
cleanup() {
	[ -z "$server" ] || kill "$server" 2> /dev/null
	gpgconf --homedir "$tmp/gnupg" --kill gpg-agent 2> /dev/null || true
	rm -rf "$tmp" "$work/debkeep" "$work/aptly"
}
trap cleanup EXIT

# The upstream: the real Packages, signed by a throwaway key, and the closure's pool from the cached root.
packages=$("$top/tests/lib/apt-data.sh" /var/cache/debkeep-test amd64 bookworm)
up=$work/upstream
d=$up/dists/bookworm
mkdir -p "$d/main/binary-amd64"
if ! cmp -s "$packages" "$work/Packages" || [ ! -e "$d/main/binary-amd64/Packages.gz" ]; then
	echo "# compressing $(grep -c '^Package:' "$packages") stanzas into Packages.gz and .xz" >&2
	cp "$packages" "$work/Packages"
	xz -T0 -6 -c "$packages" > "$d/main/binary-amd64/Packages.xz"
	gzip -n -9 -c "$packages" > "$d/main/binary-amd64/Packages.gz"
fi
sqlite3 -separator ' ' "$cache/root/debkeep.db" "SELECT p.sha256, p.filename FROM collection_members m
	JOIN collections c ON c.id = m.collection_id JOIN packages p ON p.id = m.package_id
	WHERE c.name = 'mirror/cip'" | while read -r sha fn; do
	[ -e "$up/$fn" ] || { mkdir -p "$up/$(dirname "$fn")" && ln "$cache/root/objects/${sha:0:2}/${sha:2}" "$up/$fn"; }
done
x=$d/main/binary-amd64/Packages.xz
g=$d/main/binary-amd64/Packages.gz
{
	printf 'Origin: Debian\nLabel: Debian\nSuite: oldstable\nCodename: bookworm\n'
	printf 'Date: %s\nArchitectures: amd64\nComponents: main\nSHA256:\n' "$(LC_ALL=C date -u -R)"
	printf ' %s %s main/binary-amd64/Packages.xz\n' "$(sha256sum < "$x" | cut -d' ' -f1)" "$(stat -c %s "$x")"
	printf ' %s %s main/binary-amd64/Packages.gz\n' "$(sha256sum < "$g" | cut -d' ' -f1)" "$(stat -c %s "$g")"
} > "$d/Release"
fpr=$("$top/tests/fixtures/publish/make-key.sh" "$tmp/gnupg")
GNUPGHOME=$tmp/gnupg gpg --batch --export "$fpr" > "$tmp/key.gpg"
GNUPGHOME=$tmp/gnupg gpg --batch --yes --local-user "$fpr" --clearsign -o "$d/InRelease" "$d/Release"
GNUPGHOME=$tmp/gnupg gpg --batch --yes --local-user "$fpr" --armor --detach-sign -o "$d/Release.gpg" "$d/Release"
"$debkeep" --root "$cache/root" serve --public "$work" --listen 127.0.0.1:0 > "$tmp/serve.out" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q http "$tmp/serve.out" 2> /dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$tmp/serve.out" | head -n1)/upstream

# The same list for both: aptly's filter is "Priority (required) | NAME | ...", with dependencies.
awk '{ print } /^packages:/ { print "  - name: usr-is-merged"; print "    reason: debootstrap (merged /usr)" }' \
	"$top/docs/examples/cip-core.yaml" > "$tmp/list.yaml"
filter="Priority (required)$(sed -n 's/^ *- name: *\([a-z0-9.+-]*\).*/ | \1/p' "$tmp/list.yaml" | tr -d '\n')"

mkdir -p "$work/aptly"
cat > "$tmp/aptly.conf" << EOF
{ "rootDir": "$work/aptly", "architectures": ["amd64"], "downloadConcurrency": 4,
  "dependencyFollowSuggests": false, "dependencyFollowRecommends": false,
  "dependencyFollowAllVariants": false, "dependencyFollowSource": false, "gpgDisableVerify": false }
EOF
aptly() { command aptly -config="$tmp/aptly.conf" "$@"; }
aptly mirror create -keyring="$tmp/key.gpg" -architectures=amd64 -filter="$filter" -filter-with-deps \
	bench "$url" bookworm main > "$tmp/aptly-create.log" 2>&1
# aptly takes other alternatives than apt (and debkeep) in places: the files of its closure that the
# cached root lacks (its first update names them, 404) are fetched once into the upstream's pool with
# apt-get download from the machine's archive, and its update is run again.
awk '/^Package:/ { p = $2 } /^Version:/ { v = $2 } /^Filename:/ { print p, v, $2 }' "$packages" > "$tmp/files"
fetch_missing() {
	# shellcheck source=../tests/lib/apt-data.sh
	. "$top/tests/lib/apt-data.sh"
	apt_env /var/cache/debkeep-test amd64 bookworm
	mkdir -p "$work/download"
	cd "$work/download"
	grep -o 'while fetching [^ ]*' "$1" | sed 's|.*/upstream/||' | sort -u | while read -r fn; do
		read -r name version _ < <(awk -v f="$fn" '$3 == f { print; exit }' "$tmp/files") || continue
		[ -n "$name" ] || continue
		rm -f -- *.deb
		apt-get -q download "$name=$version" > /dev/null && mkdir -p "$up/$(dirname "$fn")" && mv -- *.deb "$up/$fn"
	done
}
for attempt in 1 2 3 4; do
	aptly mirror update -keyring="$tmp/key.gpg" bench > "$tmp/aptly-first.log" 2>&1 && break
	[ "$attempt" -lt 4 ] || { tail -5 "$tmp/aptly-first.log" >&2; exit 1; }
	(fetch_missing "$tmp/aptly-first.log")
done
dk() { "$debkeep" --root "$work/debkeep" "$@"; }
dk init > /dev/null
dk mirror create bench "$url" --suite bookworm --components main --archs amd64 --keyring "$tmp/key.gpg" \
	--list "$tmp/list.yaml" > /dev/null
dk mirror update bench > /dev/null

# measure NAME CMD...: best wall time over $runs runs, and the peak RSS of that run
measure() {
	local name=$1 best_t="" best_m="" best_c="" t m c
	shift
	for _ in $(seq "$runs"); do
		/usr/bin/time -v "$@" > "$tmp/out" 2> "$tmp/time" || { tail -n 5 "$tmp/time" "$tmp/out" >&2; exit 1; }
		t=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s }' "$tmp/time")
		m=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time")
		c=$(awk -F': ' '/(User|System) time \(seconds\)/ { s += $2 } END { print s }' "$tmp/time")
		if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN { exit !(a < b) }'; then
			best_t=$t best_m=$m best_c=$c
		fi
	done
	printf '%-8s %6.2f s wall  %6.2f s CPU  %6.1f MB peak RSS\n' "$name" "$best_t" "$best_c" \
		"$(awk -v k="$best_m" 'BEGIN { print k / 1024 }')"
	eval "${name}_t=$best_t ${name}_m=$best_m ${name}_c=$best_c"
}
echo "mirror update with nothing new: bookworm main amd64 ($(grep -c '^Package:' "$packages") stanzas)," \
	"list $(grep -c '^ *- name:' "$tmp/list.yaml") packages + Priority required"
measure debkeep "$debkeep" --root "$work/debkeep" mirror update bench --json
jq -c '{packages, new, debs_fetched, index_seconds}' "$tmp/out"
measure aptly "$(command -v aptly)" -config="$tmp/aptly.conf" mirror update -keyring="$tmp/key.gpg" bench
grep -E 'packages|Packages' "$tmp/out" | tail -n 2 || true
awk -v a="$aptly_t" -v b="$debkeep_t" -v c="$aptly_m" -v d="$debkeep_m" -v e="$aptly_c" -v f="$debkeep_c" \
	'BEGIN { printf "ratio (aptly / debkeep): wall %.1fx, CPU %.1fx, peak RSS %.1fx\n", a / b, e / f, c / d }'
