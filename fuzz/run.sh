#!/bin/bash
# run.sh - build the libFuzzer targets with clang and run each for a while, printed as TAP.
#
#   fuzz/run.sh [NAME...]        (NAME as in fuzz/fuzz-NAME.c or fuzz/AREA/fuzz-NAME.c; all by default)
#
# FUZZ_SECONDS (default 30) is each target's budget; BUILD_FUZZ (default build-fuzz) the build
# directory. The whole library is built with ASan+UBSan and, for coverage feedback, libFuzzer's
# instrumentation. Each target runs on a temporary copy of fuzz/corpus/NAME/, so the checked-in corpus
# only changes when someone copies new inputs in by hand; fuzz-NAME.options beside a target adds
# libFuzzer flags for it (one per line, each with its reason); a crashing input is kept in
# BUILD_FUZZ/artifacts/NAME/ and its path printed. A target is ok when libFuzzer found no crash, leak,
# timeout or sanitizer report in its budget. Warnings do not stop this build (-Dwerror=false): the gcc
# builds enforce them, and a clang-only warning should not hide what fuzzing finds; they are counted
# in the TAP output instead.
set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top" || exit 1
secs=${FUZZ_SECONDS:-30}
bdir=${BUILD_FUZZ:-build-fuzz}

# Targets live in fuzz/ and in an area's fuzz/AREA/; dirs[NAME] is the directory of each.
declare -A dirs
for f in fuzz/fuzz-*.c fuzz/*/fuzz-*.c; do
	[ -e "$f" ] || continue
	n=$(basename "$f" .c)
	dirs[${n#fuzz-}]=$(dirname "$f")
done
if [ $# -gt 0 ]; then
	names=("$@")
else
	mapfile -t names < <(printf '%s\n' "${!dirs[@]}" | sort)
fi

echo "1..${#names[@]}"
log=$(mktemp "${TMPDIR:-/tmp}/debkeep-fuzz-build.XXXXXX")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/debkeep-fuzz.XXXXXX")
trap 'rm -rf "$tmp" "$log"' EXIT

# Sanitizer reports must end the run (libFuzzer then saves the input); leaks are checked too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# A build directory set up otherwise (by hand, with gcc, without sanitizers) is set up anew: the
# marker file holds the configuration this script made it with.
setup=(-Dfuzz=true -Dwerror=false -Db_sanitize=address,undefined -Db_lundef=false
	"-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined")
marker="CC=clang ${setup[*]}"
if [ ! -f "$bdir/build.ninja" ] || [ "$(cat "$bdir/debkeep-fuzz-setup" 2>/dev/null)" != "$marker" ]; then
	rm -rf "$bdir"
	if CC=clang meson setup "$bdir" "${setup[@]}" >"$log" 2>&1; then
		echo "$marker" >"$bdir/debkeep-fuzz-setup"
	else
		for i in "${!names[@]}"; do
			echo "not ok $((i + 1)) - ${names[$i]} # meson setup failed"
		done
		sed 's/^/# /' "$log" | tail -n 30
		exit 1
	fi
fi
targets=()
for n in "${names[@]}"; do
	targets+=("${dirs[$n]:-fuzz}/fuzz-$n")
done
build_ok=1
ninja -C "$bdir" "${targets[@]}" >"$log" 2>&1 || build_ok=
warnings=$(grep -c 'warning:' "$log")
if [ "$warnings" -gt 0 ]; then
	echo "# clang: $warnings warning(s) building the targets (gcc builds treat them as errors):"
	grep 'warning:' "$log" | head -n 5 | sed 's/^/#   /'
fi

i=0
failed=0
for n in "${names[@]}"; do
	i=$((i + 1))
	exe=$bdir/${dirs[$n]:-fuzz}/fuzz-$n
	if [ -z "$build_ok" ] || [ ! -x "$exe" ]; then
		echo "not ok $i - $n # build failed"
		[ -n "$build_ok" ] || grep -E 'error|FAILED' "$log" | head -n 20 | sed 's/^/# /'
		failed=$((failed + 1))
		continue
	fi
	corpus=$tmp/corpus-$n
	art=$bdir/artifacts/$n
	mkdir -p "$corpus" "$art"
	[ -d "fuzz/corpus/$n" ] && cp -R "fuzz/corpus/$n/." "$corpus/"
	seeds=$(find "$corpus" -type f | wc -l)
	out=$tmp/$n.log
	# A target's own settings, one per line ('#' starts a comment), each with its reason beside it:
	# a libFuzzer flag (-name=value), or ASAN_OPTIONS=... added to the sanitizer's options.
	extra=()
	asan=$ASAN_OPTIONS
	if [ -f "${dirs[$n]:-fuzz}/fuzz-$n.options" ]; then
		while read -r opt; do
			case $opt in
			ASAN_OPTIONS=*) asan=$asan:${opt#ASAN_OPTIONS=} ;;
			?*) extra+=("$opt") ;;
			esac
		done < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "${dirs[$n]:-fuzz}/fuzz-$n.options")
	fi
	ASAN_OPTIONS=$asan "$exe" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
		"${extra[@]}" -print_final_stats=1 -artifact_prefix="$art/" "$corpus" >"$out" 2>&1 </dev/null
	rc=$?
	runs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$out")
	grown=$(find "$corpus" -type f | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "ok $i - $n # ${runs:-?} runs in ${secs}s, corpus $seeds -> $grown"
	else
		echo "not ok $i - $n # exit $rc after ${runs:-?} runs"
		{
			grep -E 'ERROR|SUMMARY|runtime error|deadly signal|Test unit written' "$out" | head -n 10
			grep -E '^ +#[0-9]+ ' "$out" | head -n 12
		} | sed 's/^/# /'
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ]
