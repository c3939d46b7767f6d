#!/bin/bash
# run.sh - golden-file tests of the debkeep command (git's test_cmp, curl's tests/data), printed as TAP.
#
#   tests/cli/run.sh [--update] DEBKEEP [NAME...]
#
# Each case is a directory tests/cli/NAME/ holding:
#   cmd              one line: the arguments to debkeep, split as the shell would (`eval set --`);
#                    it may use $DATA (this case's directory) and $FIXTURES (tests/fixtures, or $FIXTURES)
#   stdin            optional: fed to the command (else /dev/null)
#   expected-stdout  compared exactly (a missing file means no output is expected)
#   expected-stderr  optional: compared exactly when present, ignored otherwise
#   expected-exit    optional: the exit status, 0 unless it says otherwise
# The command runs in an empty temporary directory with LC_ALL=C, TZ=UTC and no DEBKEEP_ROOT. Before
# comparing, the case directory, the fixtures directory and the binary's path are written back as
# $DATA, $FIXTURES and "debkeep" in what the command printed, so the expected files hold no local paths.
# --update writes what the command printed and its exit status into the case instead of comparing:
# for writing a new case; review its diff before committing.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
update=
if [ "${1:-}" = --update ]; then
	update=1
	shift
fi
[ $# -ge 1 ] || { echo "usage: run.sh [--update] DEBKEEP [NAME...]" >&2; exit 2; }
bin=$1
shift
case $bin in
/*) ;;
*) bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin") ;;
esac
[ -x "$bin" ] || { echo "Bail out! no executable $bin"; exit 1; }
FIXTURES=${FIXTURES:-$(cd "$here/../fixtures" 2>/dev/null && pwd)}
export FIXTURES

if [ $# -gt 0 ]; then
	names=("$@")
else
	names=()
	for d in "$here"/*; do
		[ -f "$d/cmd" ] && names+=("${d##*/}")
	done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/debkeep-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Local paths back to their names; the longest first, as the binary may live under the case directory.
normalize() {
	DK_BIN=$bin DK_DATA=$DATA DK_FIX=$FIXTURES perl -pe '
		s/\Q$ENV{DK_BIN}\E/debkeep/g;
		s/\Q$ENV{DK_DATA}\E/\$DATA/g if length $ENV{DK_DATA};
		s/\Q$ENV{DK_FIX}\E/\$FIXTURES/g if length $ENV{DK_FIX};'
}

# compare WHAT EXPECTED ACTUAL: 0 if equal, else the unified diff as TAP diagnostics.
compare() {
	local what=$1 exp=$2 act=$3
	[ -e "$exp" ] || exp=/dev/null
	cmp -s "$exp" "$act" && return 0
	echo "# $what differs (--- expected, +++ actual):"
	diff -u --label expected --label actual "$exp" "$act" | sed 's/^/#   /'
	return 1
}

echo "1..${#names[@]}"
n=0
failed=0
for name in "${names[@]}"; do
	n=$((n + 1))
	DATA=$here/$name
	if [ ! -f "$DATA/cmd" ]; then
		echo "not ok $n - $name"
		echo "# no such case: $DATA/cmd"
		failed=$((failed + 1))
		continue
	fi
	export DATA
	work=$tmp/$name
	mkdir -p "$work/cwd"
	input=/dev/null
	[ -f "$DATA/stdin" ] && input=$DATA/stdin
	line=$(head -n1 "$DATA/cmd")
	(
		cd "$work/cwd" || exit 125
		unset DEBKEEP_ROOT
		export LC_ALL=C TZ=UTC
		eval "set -- $line"
		exec "$bin" "$@"
	) <"$input" >"$work/stdout.raw" 2>"$work/stderr.raw"
	status=$?
	normalize <"$work/stdout.raw" >"$work/stdout"
	normalize <"$work/stderr.raw" >"$work/stderr"
	want=0
	[ -f "$DATA/expected-exit" ] && want=$(tr -d ' \t\n' <"$DATA/expected-exit")

	if [ -n "$update" ]; then
		cp "$work/stdout" "$DATA/expected-stdout"
		if [ -s "$work/stderr" ] || [ -f "$DATA/expected-stderr" ]; then
			cp "$work/stderr" "$DATA/expected-stderr"
		fi
		if [ "$status" -ne 0 ] || [ -f "$DATA/expected-exit" ]; then
			echo "$status" >"$DATA/expected-exit"
		fi
		echo "ok $n - $name # updated (exit $status)"
		continue
	fi

	diag=$tmp/diag
	: >"$diag"
	ok=1
	compare stdout "$DATA/expected-stdout" "$work/stdout" >>"$diag" || ok=
	if [ -f "$DATA/expected-stderr" ]; then
		compare stderr "$DATA/expected-stderr" "$work/stderr" >>"$diag" || ok=
	fi
	if [ "$status" != "$want" ]; then
		echo "# exit status $status, expected $want" >>"$diag"
		ok=
	fi
	if [ -n "$ok" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "# debkeep $line"
		cat "$diag"
		# An unexpected stderr is usually the explanation; show it when the case does not check it.
		if [ ! -f "$DATA/expected-stderr" ] && [ -s "$work/stderr" ]; then
			echo "# stderr:"
			head -n 40 "$work/stderr" | sed 's/^/#   /'
		fi
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ]
