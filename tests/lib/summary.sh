#!/bin/bash
# summary.sh - add up test results from meson's logs and TAP files into one closing line.
#
#   tests/lib/summary.sh FILE...
#
# A FILE ending in .json is a meson test log (BUILD/meson-logs/testlog.json, one object per test);
# anything else is TAP (fuzz/run.sh's output, .ci/run's failed phases). The last line printed is
# `N passed, N failed` (`, N skipped` appended when some were skipped); the exit status is 1 when
# something failed or nothing ran at all, else 0.
#
# What is counted: assertions, not programs. A meson test whose output is TAP counts one per
# `ok`/`not ok` line (a `# SKIP` directive or a `not ok ... # TODO` counts as skipped); a test that
# speaks no TAP counts once, by meson's verdict. A TAP test that meson failed (crash, timeout, bad
# plan, non-zero exit) but whose lines show no failure counts one failure more, so a sanitizer abort
# after the last `ok` is never lost. Likewise a TAP file whose plan promised more lines than it has
# counts the missing ones as failed, and a FILE that does not exist (its build failed, or it never
# ran) counts as one failure.
set -u

[ $# -ge 1 ] || { echo "usage: summary.sh FILE..." >&2; exit 2; }
command -v jq >/dev/null || { echo "summary.sh: jq is needed (make deps installs it)" >&2; }

# meson_counts FILE: one line per test, "PASS FAIL SKIP RESULT NAME".
meson_counts() {
	jq -r '
		def directive($re): test("#\\s*" + $re + "\\b"; "i");
		. as $t
		| [(.stdout // "") | split("\n")[] | select(test("^(not )?ok\\b"))] as $l
		| ($l | map(select(test("^ok\\b") and (directive("SKIP") | not))) | length) as $pass
		| ($l | map(select(directive("SKIP") or (test("^not ok\\b") and directive("TODO")))) | length) as $skip
		| ($l | map(select(test("^not ok\\b") and (directive("TODO") | not))) | length) as $fail
		| ($t.result | IN("OK", "SKIP", "EXPECTEDFAIL")) as $fine
		| if ($l | length) == 0 then
			(if $t.result == "SKIP" then [0, 0, 1] elif $fine then [1, 0, 0] else [0, 1, 0] end)
		  elif $fail == 0 and ($fine | not) then [$pass, 1, $skip]
		  else [$pass, $fail, $skip] end
		| "\(.[0]) \(.[1]) \(.[2]) \($t.result) \($t.name)"' "$1"
}

# meson_failures FILE: for each failed test, its `not ok` lines with their diagnostics, or, when it
# has none (a crash, a timeout), the end of its output: meson's --print-errorlogs shows only stderr.
meson_failures() {
	jq -r 'select(.result | IN("OK", "SKIP", "EXPECTEDFAIL") | not)
		| "@ \(.name): \(.result)",
		  ((.stdout // "") | split("\n")[] | "|" + .),
		  ((.stderr // "") | split("\n")[] | "!" + .)' "$1" |
	awk '
		function flush(   i, from) {
			if (name == "") return
			print "    " name
			if (nb > 0) {
				for (i = 1; i <= nb && i <= 40; i++) print "      " bad[i]
				if (nb > 40) print "      ..."
			} else {
				from = no > 15 ? no - 14 : 1
				for (i = from; i <= no; i++) print "      " out[i]
				from = ne > 15 ? ne - 14 : 1
				for (i = from; i <= ne; i++) print "      stderr: " err[i]
			}
			nb = no = ne = 0
		}
		/^@ / { flush(); name = substr($0, 3); indiag = 0; next }
		/^\|/ {
			l = substr($0, 2)
			if (l == "") next
			out[++no] = l
			if (l ~ /^not ok/) { bad[++nb] = l; indiag = 1 }
			else if (indiag && l ~ /^#/) bad[++nb] = l
			else indiag = 0
			next
		}
		/^!./ { err[++ne] = substr($0, 2) }
		END { flush() }'
}

# tap_counts FILE: one line "PASS FAIL SKIP", then the lines that failed.
tap_counts() {
	awk '
		/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; next }
		/^Bail out!/ { fail++; bad[++nb] = $0; next }
		/^(not )?ok([ \t]|$)/ {
			seen++
			d = toupper($0)
			if (d ~ /#[ \t]*SKIP/ || ($1 == "not" && d ~ /#[ \t]*TODO/)) skip++
			else if ($1 == "ok") pass++
			else { fail++; bad[++nb] = $0 }
		}
		END {
			if (plan > seen) { fail += plan - seen; bad[++nb] = (plan - seen) " planned test(s) never reported" }
			printf "%d %d %d\n", pass, fail, skip
			for (i = 1; i <= nb; i++) print bad[i]
		}' "$1"
}

tp=0 tf=0 ts=0
for f in "$@"; do
	p=0 x=0 s=0
	if [ ! -e "$f" ]; then
		x=1
		echo "  $f: missing (its build or run failed)"
	elif [ "${f%.json}" != "$f" ]; then
		while read -r a b c result name; do
			p=$((p + a)) x=$((x + b)) s=$((s + c))
		done < <(meson_counts "$f" || echo "0 1 0 UNREADABLE $f")
		[ "$x" -eq 0 ] || { echo "  $f: failed:"; meson_failures "$f"; }
	else
		{
			read -r p x s
			while IFS= read -r line; do
				echo "  $f: $line"
			done
		} < <(tap_counts "$f")
	fi
	echo "  $f: ok $p, failed $x, skipped $s"
	tp=$((tp + p)) tf=$((tf + x)) ts=$((ts + s))
done

line="$tp passed, $tf failed"
[ "$ts" -gt 0 ] && line="$line, $ts skipped"
echo "$line"
[ "$tf" -eq 0 ] && [ $((tp + tf + ts)) -gt 0 ]
