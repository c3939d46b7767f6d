#!/bin/bash
# kconfig.sh - time `debkeep kconfig check` on Debian's full 6.1 kernel configs (amd64 and arm64).
#
#   bench/kconfig.sh DEBKEEP [RULES]
#
# The configs come from linux-config-6.1, fetched with `apt-get download` through a private apt
# setup per architecture and cached in /var/cache/debkeep-test (as tests/integration/kconfig-debian.sh
# does). Each command runs RUNS times (default 50) and the mean is printed, in ms:
#   - debkeep kconfig check on the plain config, and on the .xz the package ships;
#   - the start-up of the same binary (`debkeep version compare 1 1`): on some virtual machines
#     starting any process costs tens of ms, which says nothing about the check;
#   - so also the check in-process (load the rules, parse the config, check, make the fragment), by
#     a small program built here against the build's lib/libdebkeep.a (found beside DEBKEEP);
#   - kernel-hardening-checker on the same config, when it is installed (Debian packages it in no
#     release yet: neither bookworm nor trixie has it), and the ratio to it;
#   - else an awk one-pass check of the same rules (their first option only: no versions, no
#     alternatives) as the plain-tool floor, and the ratio to it.
set -euo pipefail

debkeep=$(realpath "${1:?usage: kconfig.sh DEBKEEP [RULES]}")
here=$(cd "$(dirname "$0")" && pwd)
rules=$(realpath "${2:-$here/../data/kconfig/rules}")
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}
runs=${RUNS:-50}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch() {
	local arch=$1 dir="$cache/kconfig-$arch" deb
	mkdir -p "$dir"
	deb=$(ls "$dir"/linux-config-6.1_*_"$arch".deb 2>/dev/null | tail -n1 || true)
	if [ -z "$deb" ]; then
		"$here/../tests/lib/apt-data.sh" "$cache" "$arch" bookworm >/dev/null
		(source "$here/../tests/lib/apt-data.sh" && apt_env "$cache" "$arch" bookworm &&
			cd "$dir" && apt-get -q download "linux-config-6.1:$arch") >&2
		deb=$(ls "$dir"/linux-config-6.1_*_"$arch".deb | tail -n1)
	fi
	echo "$deb"
}

# mean_ms COMMAND...: the mean wall time of RUNS runs, in ms with two decimals
mean_ms() {
	local start end
	start=$(date +%s%N)
	for ((i = 0; i < runs; i++)); do
		"$@" >/dev/null 2>&1 || true
	done
	end=$(date +%s%N)
	awk -v s="$start" -v e="$end" -v n="$runs" 'BEGIN { printf "%.2f", (e - s) / n / 1e6 }'
}

# The plain-tool floor: each rule's first option and value against the config, one awk pass.
awk_check() {
	awk -v arch="$2" '
		FNR == NR {
			if ($0 ~ /^[ \t]*(#|$)/ || $1 == "source") next
			if ($4 != "all" && index("," $4 ",", "," arch ",") == 0) next
			want[$1] = $2; next
		}
		/^CONFIG_/ { i = index($0, "="); have[substr($0, 8, i - 8)] = substr($0, i + 1); next }
		/^# CONFIG_.* is not set$/ { have[substr($2, 8)] = "n" }
		END {
			for (o in want) {
				h = (o in have) ? have[o] : "n"
				if (h == want[o]) ok++; else fail++
			}
			printf "%d ok %d fail\n", ok, fail
		}' "$rules" "$1"
}

# In-process: libdebkeep's own calls, RUNS times, mean in ms.
lib=$(dirname "$debkeep")/../lib/libdebkeep.a
inproc=
if [ -e "$lib" ] && command -v cc >/dev/null; then
	cat >"$tmp/inproc.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <debkeep/kconfig.h>
int main(int argc, char **argv)
{
	int runs = atoi(argv[3]);
	struct timespec a, b;
	struct dk_err err = DK_ERR_INIT;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < runs; i++) {
		struct dk_kconfig_rules r = DK_KCONFIG_RULES_INIT;
		struct dk_kconfig kc = DK_KCONFIG_INIT;
		struct dk_kconfig_report rep = DK_KCONFIG_REPORT_INIT;
		struct dk_buf frag = DK_BUF_INIT;

		if (dk_kconfig_rules_load(&r, argv[1], &err))
			return fprintf(stderr, "%s\n", err.msg), 1;
		kc.only = &r.names;
		if (dk_kconfig_load(&kc, argv[2], &err) ||
		    dk_kconfig_check(&r, &kc, dk_kconfig_detect_arch(&kc), NULL, &rep, &err) ||
		    dk_kconfig_fragment(&rep, &kc, &frag, &err))
			return fprintf(stderr, "%s\n", err.msg), 1;
		dk_buf_release(&frag);
		dk_kconfig_report_release(&rep);
		dk_kconfig_release(&kc);
		dk_kconfig_rules_release(&r);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f\n", ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6) / runs);
	return 0;
}
C
	if cc -O2 -I"$here/../include" "$tmp/inproc.c" "$lib" -Wl,--as-needed -larchive -lcrypto -lyaml -lz \
		-o "$tmp/inproc" 2>"$tmp/cc.log"; then
		inproc=$tmp/inproc
	else
		echo "kconfig.sh: could not build the in-process timer: $(head -n3 "$tmp/cc.log")" >&2
	fi
fi

khc=$(command -v kernel-hardening-checker || command -v kconfig-hardened-check || true)
printf '%-8s %-28s %10s\n' arch what ms
for arch in amd64 arm64; do
	case $arch in amd64) karch=x86_64 ;; arm64) karch=arm64 ;; esac
	deb=$(fetch "$arch")
	dpkg-deb -x "$deb" "$tmp/$arch"
	xz=$tmp/$arch/usr/src/linux-config-6.1/config.${arch}_none_${arch}.xz
	plain=$tmp/$arch.config
	xz -dc "$xz" >"$plain"
	start=$(mean_ms "$debkeep" version compare 1 1)
	ours=$(mean_ms "$debkeep" kconfig check --rules "$rules" "$plain")
	ours_xz=$(mean_ms "$debkeep" kconfig check --rules "$rules" "$xz")
	own=$(awk -v a="$ours" -v b="$start" 'BEGIN { d = a - b; printf "%.2f", d < 0 ? 0 : d }')
	printf '%-8s %-28s %10s\n' "$arch" "debkeep start-up only" "$start"
	printf '%-8s %-28s %10s\n' "$arch" "debkeep kconfig check" "$ours"
	printf '%-8s %-28s %10s\n' "$arch" "  less start-up" "$own"
	printf '%-8s %-28s %10s\n' "$arch" "debkeep kconfig check (.xz)" "$ours_xz"
	if [ -n "$inproc" ]; then
		printf '%-8s %-28s %10s\n' "$arch" "in-process check" "$("$inproc" "$rules" "$plain" "$runs")"
		printf '%-8s %-28s %10s\n' "$arch" "in-process check (.xz)" "$("$inproc" "$rules" "$xz" "$runs")"
	fi
	if [ -n "$khc" ]; then
		theirs=$(mean_ms "$khc" -c "$plain" -m json)
		printf '%-8s %-28s %10s\n' "$arch" "$(basename "$khc")" "$theirs"
		awk -v t="$theirs" -v o="$ours" -v a="$arch" \
			'BEGIN { printf "%-8s %-28s %10.1f\n", a, "ratio (them / us)", t / o }'
	else
		theirs=$(mean_ms awk_check "$plain" "$karch")
		printf '%-8s %-28s %10s   (%s)\n' "$arch" "awk one-pass floor" "$theirs" "$(awk_check "$plain" "$karch")"
		awk -v t="$theirs" -v o="$ours" -v a="$arch" \
			'BEGIN { printf "%-8s %-28s %10.2f\n", a, "ratio (awk / us)", t / o }'
	fi
done
[ -n "$khc" ] || echo "kernel-hardening-checker is not installed (not packaged in Debian bookworm or trixie): compared with awk"
