#!/bin/bash
# publish.sh - debkeep publish beside apt-ftparchive (apt-utils) on the same pool of generated .debs.
# The .debs are small and distinct (tests/fixtures/publish/gen-debs.py): only metadata matters to
# index writing. Both sides read every .deb (control + digests) and write Packages, Packages.gz,
# Packages.xz and a Release with MD5Sum and SHA256; debkeep also links the pool and by-hash/ and
# switches the tree in atomically, apt-ftparchive also computes SHA1 and SHA512. Neither signs.
# Prints the best wall time over RUNS runs with its CPU time, and the ratio.
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
