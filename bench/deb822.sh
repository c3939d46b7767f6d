#!/bin/bash
# deb822.sh - lib/deb/deb822.c splitting the real bookworm amd64 index (~50 MB) into stanzas and fields,
# beside awk's paragraph mode (`awk -v RS=`) and `grep -c '^Package:'` counting the same stanzas.
#
#   bench/deb822.sh [DEB822_BENCH [ROUNDS]]
#
# DEB822_BENCH is build/bench/deb822-bench (also from $DEB822_BENCH). There is no established C
# deb822 parser to race, so the yardsticks are the plain text tools that only find the stanza
# boundaries, while debkeep also checks and records every field. Prints the best of ROUNDS (default
# 10) of each, and tool/debkeep (above 1 means debkeep is faster). Exits 1 if the counts disagree.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bench=${1:-${DEB822_BENCH:-$here/../build/bench/deb822-bench}}
rounds=${2:-10}
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}
[ -x "$bench" ] || { echo "deb822.sh: no deb822-bench at '$bench'" >&2; exit 2; }
index=$("$here/../tests/lib/apt-data.sh" "$cache" amd64)

# "MS OUTPUT": the best wall time in ms over $rounds runs of "$@", and what it printed
best_ms() {
	local best="" start end t out
	for _ in $(seq "$rounds"); do
		start=$(date +%s%N)
		out=$("$@")
		end=$(date +%s%N)
		t=$(( (end - start) / 1000 ))
		if [ -z "$best" ] || [ "$t" -lt "$best" ]; then
			best=$t
		fi
	done
	awk -v us="$best" -v out="$out" 'BEGIN { printf "%.1f %s\n", us / 1000, out }'
}

dk_line=$("$bench" --rounds "$rounds" "$index")
dk_stanzas=${dk_line%% *}
dk_ms=$(echo "$dk_line" | sed -n 's/.*best \([0-9.]*\) ms.*/\1/p')
read -r awk_ms awk_stanzas < <(LC_ALL=C best_ms awk -v RS= 'END { print NR }' "$index")
read -r grep_ms grep_stanzas < <(LC_ALL=C best_ms grep -c '^Package:' "$index")

echo "index: $index ($(du -m "$index" | cut -f1) MB)"
echo "deb822-bench: $dk_line"
printf '%-44s %9s %9s %7s\n' "" "stanzas" "best ms" "ratio"
printf '%-44s %9s %9s %7s\n' "debkeep dk_deb822_next (CPU time)" "$dk_stanzas" "$dk_ms" "1.00"
printf '%-44s %9s %9s %7.2f\n' "awk -v RS= 'END { print NR }' (wall)" "$awk_stanzas" "$awk_ms" \
	"$(awk -v a="$awk_ms" -v d="$dk_ms" 'BEGIN { print a / d }')"
printf '%-44s %9s %9s %7.2f\n' "grep -c '^Package:' (wall)" "$grep_stanzas" "$grep_ms" \
	"$(awk -v a="$grep_ms" -v d="$dk_ms" 'BEGIN { print a / d }')"
if [ "$dk_stanzas" != "$awk_stanzas" ] || [ "$dk_stanzas" != "$grep_stanzas" ]; then
	echo "deb822.sh: stanza counts differ" >&2
	exit 1
fi
