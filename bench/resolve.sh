#!/bin/bash
# resolve.sh - load + resolve "Priority: required + the CIP requests" on the real bookworm amd64
# index (uncompressed, ~50 MB), debkeep beside `apt-get install -s --no-install-recommends` on the
# same index with an empty dpkg status. Prints wall time and peak memory (best of N runs) and the ratio.
#
#   bench/resolve.sh [DEBKEEP] [RUNS]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
debkeep=${1:-$top/build/src/debkeep}
runs=${2:-5}
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}
index=$("$top/tests/lib/apt-data.sh" "$cache" amd64 bookworm)
# shellcheck source=../tests/lib/apt-data.sh
source "$top/tests/lib/apt-data.sh"
apt_env "$cache" amd64 bookworm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

requests="busybox binutils openssl openssh-server"
cat >"$tmp/list.yaml" <<LIST
release: bookworm
architectures: [amd64]
priority: required
packages:
$(for p in $requests; do printf '  - name: %s\n    reason: benchmark\n' "$p"; done)
LIST
required=$(awk -v RS= '/\nPriority: required\n/ { sub(/^Package: /, ""); sub(/\n.*/, ""); print }' "$index" | sort -u)

# best wall time (s) and its peak RSS (KB) over $runs runs of "$@"
best() {
	local best_t="" best_m="" t m
	for _ in $(seq "$runs"); do
		/usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/stderr" || {
			cat "$tmp/stderr" >&2
			return 1
		}
		read -r t m <"$tmp/time"
		if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN { exit !(a < b) }'; then
			best_t=$t best_m=$m
		fi
	done
	echo "$best_t $best_m"
}

echo "index: $index ($(du -m "$index" | cut -f1) MB, $(grep -c '^Package:' "$index") stanzas)"
read -r dk_t dk_m < <(best "$debkeep" pkglist resolve "$tmp/list.yaml" --index "$index" --format list)
# shellcheck disable=SC2086
read -r apt_t apt_m < <(best apt-get install -s -q --no-install-recommends $required $requests)
rm -f "$APT_DATA_DIR"/cache/*.bin
# shellcheck disable=SC2086
/usr/bin/time -f '%e %M' -o "$tmp/time" apt-get install -s -q --no-install-recommends $required $requests >/dev/null
read -r aptc_t aptc_m <"$tmp/time"

printf '%-44s %8s %10s\n' "" "time (s)" "peak (MB)"
printf '%-44s %8.3f %10.1f\n' "debkeep pkglist resolve" "$dk_t" "$(echo "$dk_m" | awk '{ print $1 / 1024 }')"
printf '%-44s %8.3f %10.1f\n' "apt-get install -s (binary cache warm)" "$apt_t" "$(echo "$apt_m" | awk '{ print $1 / 1024 }')"
printf '%-44s %8.3f %10.1f\n' "apt-get install -s (cache rebuilt)" "$aptc_t" "$(echo "$aptc_m" | awk '{ print $1 / 1024 }')"
awk -v d="$dk_t" -v a="$apt_t" -v c="$aptc_t" 'BEGIN {
	if (d < 0.001) d = 0.001
	printf "ratio: debkeep is %.1fx faster than apt (warm cache), %.1fx (cache rebuilt)\n", a / d, c / d }'
