#!/bin/bash
# cve.sh - debkeep cve beside debsecan on the same data and the same 1,000-package dpkg status file.
# The data is a generated data/CVE/list of 300,000 entries (tests/lib/gen-cve-list.sh, every line
# type); debsecan gets the same data in its own feed format (tests/integration/sec/debsecan-feed.py).
# Prints, for each, the best wall time over N runs, its CPU time (user+sys) and peak memory:
#   update      debkeep cve update: parse the whole list and store it in the data root (SQLite)
#   load+scan   debkeep cve scan --tracker LIST: parse the list, keep the target's sources, scan
#   scan        debkeep cve scan against the loaded data root
#   debsecan    debsecan --suite bookworm --source file://FEED --status STATUS
#   startup     debkeep version compare 1 1: the process start every command pays
# and the ratios of debsecan to debkeep's load+scan and scan. CPU time is printed beside wall time
# because wall time on a loaded machine mostly measures the other processes.
#
#   bench/cve.sh [DEBKEEP] [RUNS] [ENTRIES]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
debkeep=${1:-$top/build/src/debkeep}
runs=${2:-3}
entries=${3:-300000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$top/tests/lib/gen-cve-list.sh" "$entries" >"$tmp/list"
"$top/tests/lib/gen-cve-list.sh" --status 1000 >"$tmp/status"
mkdir "$tmp/feed"
python3 "$top/tests/integration/sec/debsecan-feed.py" "$tmp/list" bookworm "$tmp/feed"

# best NAME CMD...: the best wall time over $runs runs, with that run's CPU time and peak RSS
best() {
	local name=$1 best_t="" best_c="" best_m="" t u s m
	shift
	for _ in $(seq "$runs"); do
		/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/stderr" || {
			# exit 1 is a scan's "found something"
			[ $? -eq 1 ] || { cat "$tmp/stderr" >&2; return 1; }
		}
		read -r t u s m < <(tail -1 "$tmp/time")
		if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN { exit !(a < b) }'; then
			best_t=$t best_c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }') best_m=$m
		fi
	done
	printf '%-10s %8s s wall %8s s cpu %8d KB\n' "$name" "$best_t" "$best_c" "$best_m"
	eval "wall_${name//[^a-z]/_}=$best_t cpu_${name//[^a-z]/_}=$best_c"
}

echo "data: $entries entries, $(grep -c '^	' "$tmp/list") annotation lines; target: 1,000 packages"
best update "$debkeep" --root "$tmp/root" cve update --from "$tmp/list"
best load+scan "$debkeep" cve scan --tracker "$tmp/list" "$tmp/status" --release bookworm
best scan "$debkeep" --root "$tmp/root" cve scan "$tmp/status" --release bookworm
best debsecan debsecan --suite bookworm --source "file://$tmp/feed/" --status "$tmp/status" --format simple \
	--config /dev/null --whitelist "$tmp/none" --history "$tmp/none"
best startup "$debkeep" version compare 1 1
# Tens of milliseconds are below /usr/bin/time's resolution: perf's mean over 20 runs, where perf is.
perf_ms() {
	local name=$1
	shift
	perf stat -r 20 -e task-clock -o "$tmp/perf" "$@" >/dev/null || [ $? -eq 1 ]
	awk -v name="$name" '/task-clock/ { cpu = $1 } /time elapsed/ { wall = $1 * 1000 }
	END { printf "%s (perf stat -r 20): %.1f ms elapsed, %.1f ms task-clock\n", name, wall, cpu }' "$tmp/perf"
	# the scan's ratio below is taken from these, finer than time(1)'s hundredths
	read -r "cpu_${name}" "wall_${name}" < <(awk '/task-clock/ { cpu = $1 / 1000 } /time elapsed/ { wall = $1 }
		END { print cpu, wall }' "$tmp/perf")
}
if command -v perf >/dev/null && perf stat -r 1 true >/dev/null 2>&1; then
	perf_ms scan "$debkeep" --root "$tmp/root" cve scan "$tmp/status" --release bookworm
	perf_ms startup "$debkeep" version compare 1 1
fi
awk -v d="$wall_debsecan" -v l="$wall_load_scan" -v s="$wall_scan" -v dc="$cpu_debsecan" -v lc="$cpu_load_scan" \
	-v sc="$cpu_scan" 'BEGIN {
	printf "ratio debsecan/debkeep load+scan: %.1fx wall, %.1fx cpu\n", d / l, (lc > 0 ? dc / lc : 0)
	printf "ratio debsecan/debkeep scan:      %.1fx wall, %.1fx cpu\n", d / s, (sc > 0 ? dc / sc : 0)
}'
