#!/bin/bash
# publish.sh - debkeep publish beside apt-ftparchive (apt-utils) on the same pool of generated .debs.
# The .debs are small and distinct (tests/fixtures/publish/gen-debs.py): only metadata matters to
# index writing. Both sides read every .deb (control + digests) and write Packages, Packages.gz,
# Packages.xz and a Release with MD5Sum and SHA256; debkeep also links the pool and by-hash/ and
# switches the tree in atomically, apt-ftparchive also computes SHA1 and SHA512. Neither signs.
# Prints the best wall time over RUNS runs with its CPU time, and the ratio.
# Then the data root's way on 20,000 generated .debs (bench/import.sh's cache, else gen-debs.py):
# import once, `snapshot create` (target < 50 ms) and `publish SNAPSHOT` (target < 1 s) beside aptly's
# `snapshot create ... from repo` and `publish snapshot` (unsigned, same input); skipped without aptly.
#
#   bench/publish.sh [DEBKEEP] [RUNS] [PACKAGES]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
debkeep=$(realpath "${1:-$top/build/src/debkeep}")
runs=${2:-3}
count=${3:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v apt-ftparchive >/dev/null || { echo "publish.sh: apt-ftparchive (apt-utils) is needed" >&2; exit 2; }

python3 "$top/tests/fixtures/publish/gen-debs.py" "$tmp/pool" "$count"

ftparchive() {
	cd "$tmp/ftp"
	rm -rf dists && mkdir -p dists/s/main/binary-amd64
	apt-ftparchive packages pool > dists/s/main/binary-amd64/Packages
	gzip -9nk dists/s/main/binary-amd64/Packages
	xz -k dists/s/main/binary-amd64/Packages
	apt-ftparchive -o APT::FTPArchive::Release::Suite=s -o APT::FTPArchive::Release::Architectures=amd64 \
		-o APT::FTPArchive::Release::Components=main release dists/s > "$tmp/Release"
	mv "$tmp/Release" dists/s/Release
}
mkdir -p "$tmp/ftp"
ln -s "$tmp/pool" "$tmp/ftp/pool"

# best NAME CMD...: the best wall time over $runs runs, with that run's CPU time (user+sys)
best() {
	local name=$1 best_t="" best_c="" t u s
	shift
	for _ in $(seq "$runs"); do
		rm -rf "$tmp/root"
		/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/stderr" ||
			{ cat "$tmp/stderr" >&2; return 1; }
		read -r t u s < <(tail -1 "$tmp/time")
		if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN { exit !(a < b) }'; then
			best_t=$t best_c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
		fi
	done
	printf '%-14s %8s s wall %8s s cpu\n' "$name" "$best_t" "$best_c"
	eval "wall_${name//[^a-z]/_}=$best_t cpu_${name//[^a-z]/_}=$best_c"
}

export -f ftparchive
export tmp
echo "pool: $count generated .debs"
best debkeep "$debkeep" --root "$tmp/root" publish "$tmp/pool" --suite s --date 1700000000
best apt-ftparchive bash -c ftparchive
awk -v a="$wall_apt_ftparchive" -v d="$wall_debkeep" -v ac="$cpu_apt_ftparchive" -v dc="$cpu_debkeep" 'BEGIN {
	printf "ratio apt-ftparchive/debkeep: %.1fx wall, %.1fx cpu\n", a / d, (dc > 0 ? ac / dc : 0)
}'

# A snapshot of 20,000 packages: metadata only, then published from the objects.
big=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}/gen-debs-20000
if [ ! -e "$big/.complete" ]; then
	big=$tmp/gen20k
	python3 "$top/tests/fixtures/publish/gen-debs.py" "$big" 20000
fi
echo "snapshot: $(find "$big" -name '*.deb' | wc -l) generated .debs"
"$debkeep" --root "$tmp/snaproot" init > /dev/null
"$debkeep" --root "$tmp/snaproot" import "$big" > /dev/null
best_nofresh() { # like best, on the same root
	local name=$1 best_t="" best_c="" t u s
	shift
	for _ in $(seq "$runs"); do
		/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/stderr" ||
			{ cat "$tmp/stderr" >&2; return 1; }
		read -r t u s < <(tail -1 "$tmp/time")
		if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN { exit !(a < b) }'; then
			best_t=$t best_c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
		fi
	done
	printf '%-22s %8s s wall %8s s cpu\n' "$name" "$best_t" "$best_c"
	eval "wall_${name//[^a-z]/_}=$best_t"
}
# A snapshot costs little beside the process's own start (loading debkeep's shared libraries), so
# that is measured too: the best of `debkeep version compare` runs, which do next to nothing.
for i in $(seq "$runs"); do
	/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$debkeep" --root "$tmp/snaproot" snapshot create "b$i" --from-local >/dev/null
	read -r t u s < <(tail -1 "$tmp/time")
	if [ -z "${snap_best:-}" ] || awk -v a="$t" -v b="$snap_best" 'BEGIN { exit !(a < b) }'; then
		snap_best=$t snap_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	fi
	/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$debkeep" version compare 1 1 >/dev/null
	read -r t u s < <(tail -1 "$tmp/time")
	if [ -z "${start_best:-}" ] || awk -v a="$t" -v b="$start_best" 'BEGIN { exit !(a < b) }'; then
		start_best=$t start_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	fi
done
printf '%-22s %8s s wall %8s s cpu (target < 0.05 s)\n' "debkeep snapshot create" "$snap_best" "$snap_cpu"
printf '%-22s %8s s wall %8s s cpu\n' "  (start-up alone)" "$start_best" "$start_cpu"
best_nofresh "debkeep publish snap" "$debkeep" --root "$tmp/snaproot" publish b1 --suite s --prefix bench
if command -v aptly >/dev/null; then
	printf '{"rootDir": "%s/aptly", "architectures": ["amd64", "all"]}\n' "$tmp" > "$tmp/aptly.conf"
	aptly -config="$tmp/aptly.conf" repo create bench > /dev/null
	aptly -config="$tmp/aptly.conf" repo add bench "$big" > /dev/null 2>&1
	/usr/bin/time -f '%e' -o "$tmp/time" aptly -config="$tmp/aptly.conf" snapshot create bsnap from repo bench >/dev/null
	printf '%-22s %8s s wall\n' "aptly snapshot create" "$(tail -1 "$tmp/time")"
	ap_best=""
	for _ in $(seq "$runs"); do
		aptly -config="$tmp/aptly.conf" publish drop s bench > /dev/null 2>&1 || true
		/usr/bin/time -f '%e' -o "$tmp/time" aptly -config="$tmp/aptly.conf" publish snapshot -skip-signing \
			-distribution=s bsnap bench > /dev/null 2>&1
		t=$(tail -1 "$tmp/time")
		if [ -z "$ap_best" ] || awk -v a="$t" -v b="$ap_best" 'BEGIN { exit !(a < b) }'; then ap_best=$t; fi
	done
	printf '%-22s %8s s wall\n' "aptly publish snapshot" "$ap_best"
	awk -v a="$ap_best" -v d="$wall_debkeep_publish_snap" 'BEGIN {
		printf "ratio aptly/debkeep publish of the snapshot: %.1fx (target: debkeep < 1 s)\n", a / (d > 0 ? d : 0.001) }'
fi
