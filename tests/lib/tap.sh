# tap.sh - the TAP helpers of the integration scripts. Source it, call `ok STATUS DESCRIPTION` for each
# check (STATUS 0 passes, as a command's $?), and end with `tap_end`: the plan, and an exit status
# that is 1 when any check failed.
n=0
failed=0

ok() { # STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

tap_end() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
