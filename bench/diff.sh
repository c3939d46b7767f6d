#!/bin/bash
# diff.sh - debkeep diff beside diffoscope (Debian's) on the same inputs: wall time, peak memory, ratio.
#   1. a .deb and its security update (apt-get download, cached);
#   2. two tarballs of one real tree (/usr/share/doc) differing in mtimes and
#      in a few files' contents;
#   3. debkeep alone on two ~1 GiB tarballs (/usr/lib/x86_64-linux-gnu): peak memory stays bounded.
#
#   bench/diff.sh [DEBKEEP] [RUNS]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
debkeep=${1:-$top/build/src/debkeep}
runs=${2:-3}
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}/diff-debs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C TZ=UTC
command -v diffoscope >/dev/null || { echo "diffoscope missing: apt-get install --no-install-recommends diffoscope" >&2; exit 2; }

# best wall time (s) and its peak RSS (KB) over $runs runs; exit 0 and 1 both mean success here.
best() {
	local best_t="" best_m="" t m st
	for _ in $(seq "$runs"); do
		set +e
		/usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/stderr"
		st=$?
		set -e
		if [ "$st" -gt 1 ]; then
			cat "$tmp/stderr" >&2
			return 1
		fi
		read -r t m < <(tail -n1 "$tmp/time")
		if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN { exit !(a < b) }'; then
			best_t=$t best_m=$m
		fi
	done
	echo "$best_t $best_m $(wc -c <"$tmp/out")"
}

compare() {
	local what=$1 a=$2 b=$3 dk dff
	dk=$(best "$debkeep" diff "$a" "$b")
	dff=$(best diffoscope --no-progress --text - "$a" "$b")
	read -r dt dm dout <<<"$dk"
	read -r ft fm fout <<<"$dff"
	printf '%-34s debkeep %7.2fs %6d MB %8d B out | diffoscope %7.2fs %6d MB %9d B out | %6.1fx faster\n' \
		"$what" "$dt" $((dm / 1024)) "$dout" "$ft" $((fm / 1024)) "$fout" \
		"$(awk -v a="$ft" -v b="$dt" 'BEGIN { print (b > 0 ? a / b : 0) }')"
}

mkdir -p "$cache"
if ! ls "$cache"/sudo_*.deb >/dev/null 2>&1 || [ "$(ls "$cache"/sudo_*.deb | wc -l)" -lt 2 ]; then
	vers=$(apt-cache madison sudo | awk '{ print $3 }' | sort -u | head -2)
	(cd "$cache" && for v in $vers; do apt-get download -q "sudo=$v" >/dev/null 2>&1 || true; done)
fi
debs=("$cache"/sudo_*.deb)
[ "${#debs[@]}" -ge 2 ] && compare "sudo .deb and its update" "${debs[0]}" "${debs[1]}"

src=$tmp/src
mkdir -p "$src"
cp -a /usr/share/doc "$src/doc"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700000000 -C "$src" -cf - . | gzip -n >"$tmp/t1.tar.gz"
find "$src/doc" -name copyright | awk 'NR <= 20' | while read -r f; do echo "rebuilt $(date)" >>"$f"; done
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700086400 -C "$src" -cf - . | gzip -n >"$tmp/t2.tar.gz"
compare "tree tarballs ($(du -m "$tmp/t1.tar.gz" | cut -f1) MB gz each)" "$tmp/t1.tar.gz" "$tmp/t2.tar.gz"

big=/usr/lib/x86_64-linux-gnu
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700000000 -C "$big" -cf "$tmp/b1.tar" .
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700086400 -C "$big" -cf "$tmp/b2.tar" .
read -r bt bm bout <<<"$(runs=1 best "$debkeep" diff "$tmp/b1.tar" "$tmp/b2.tar")"
printf '%-34s debkeep %7.2fs %6d MB %8d B out (diffoscope not run: hours)\n' \
	"big tarballs ($(du -m "$tmp/b1.tar" | cut -f1) MB each)" "$bt" $((bm / 1024)) "$bout"
