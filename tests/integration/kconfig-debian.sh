#!/bin/bash
# kconfig-debian.sh - `debkeep kconfig check` on Debian's own kernel configurations.
#
#   tests/integration/kconfig-debian.sh DEBKEEP [RULES]
#
# Fetches linux-config-6.1 for amd64 and for arm64 with `apt-get download`, each through a private
# apt setup of that architecture (tests/lib/apt-data.sh: the host's dpkg architectures are left
# alone), caches the .debs in /var/cache/debkeep-test, and checks the configs they hold against
# RULES (default: data/kconfig/rules). It asserts sane totals, results known for Debian's 6.1
# kernels, the N/A logic (options from later kernels; --kernel-version), the architecture taken from
# the config, the input error on a damaged config, and that the --fragment output, appended to the
# config (the last assignment wins, as in kconfig), makes every failing rule pass. Prints TAP.
set -uo pipefail

debkeep=$(realpath "${1:?usage: kconfig-debian.sh DEBKEEP [RULES]}")
here=$(cd "$(dirname "$0")" && pwd)
rules=$(realpath "${2:-$here/../../data/kconfig/rules}")
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { # check DESCRIPTION COMMAND...: ok when the command succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
command -v jq >/dev/null || { echo "Bail out! jq is needed"; exit 1; }

# result JSON OPTION: the result of the rule for OPTION ("OK", "FAIL", "N/A", or "none")
result() { jq -r --arg o "$2" '[.findings[] | select(.option == $o) | .result][0] // "none"' "$1"; }
field() { jq -r "$2" "$1"; }

# fetch ARCH: the path of linux-config-6.1's .deb for ARCH, downloaded once into the cache
fetch() {
	local arch=$1 dir="$cache/kconfig-$arch" deb
	mkdir -p "$dir"
	deb=$(ls "$dir"/linux-config-6.1_*_"$arch".deb 2>/dev/null | tail -n1)
	if [ -z "$deb" ] || [ -n "$(find "$dir" -name '*.deb' -mtime +7 2>/dev/null)" ]; then
		"$here/../lib/apt-data.sh" "$cache" "$arch" bookworm >/dev/null || return 1
		# shellcheck source=../lib/apt-data.sh
		(source "$here/../lib/apt-data.sh" && apt_env "$cache" "$arch" bookworm &&
			cd "$dir" && rm -f ./*.deb && apt-get -q download "linux-config-6.1:$arch") >&2 || return 1
		deb=$(ls "$dir"/linux-config-6.1_*_"$arch".deb 2>/dev/null | tail -n1)
	fi
	[ -n "$deb" ] && echo "$deb"
}

for arch in amd64 arm64; do
	case $arch in
	amd64) karch=x86_64 ;;
	arm64) karch=arm64 ;;
	esac
	deb=$(fetch "$arch" 2>"$tmp/fetch.log")
	if [ -z "$deb" ]; then
		not_ok "$arch: apt-get download linux-config-6.1 ($(tail -n1 "$tmp/fetch.log"))"
		continue
	fi
	ok "$arch: $(basename "$deb")"
	dpkg-deb -x "$deb" "$tmp/$arch"
	dir="$tmp/$arch/usr/src/linux-config-6.1"
	cfg="$dir/config.${arch}_none_${arch}.xz"
	check "$arch: the package holds $(basename "$cfg")" test -s "$cfg"
	[ -s "$cfg" ] || continue
	xz -dc "$cfg" >"$tmp/$arch.config"
	j="$tmp/$arch.json"

	"$debkeep" kconfig check --json --rules "$rules" "$cfg" >"$j" 2>"$tmp/err"
	st=$?
	check "$arch: exit 1, as Debian's generic kernel fails some rules (got $st: $(head -c 200 "$tmp/err"))" \
		test "$st" = 1
	total=$(field "$j" '.totals.ok + .totals.fail + .totals.na')
	okc=$(field "$j" .totals.ok)
	failc=$(field "$j" .totals.fail)
	nac=$(field "$j" .totals.na)
	echo "# $arch: $okc OK, $failc FAIL, $nac N/A of $total rules"
	check "$arch: at least 200 rules apply ($total)" test "$total" -ge 200
	check "$arch: the findings add up" test "$(field "$j" '.findings | length')" = "$total"
	check "$arch: sane totals (OK >= 100, FAIL >= 30, N/A >= 5)" \
		test "$okc" -ge 100 -a "$failc" -ge 30 -a "$nac" -ge 5
	check "$arch: architecture from the config" test "$(field "$j" .arch)" = "$karch"
	check "$arch: kernel version from the header" bash -c "[[ '$(field "$j" .kernel_version)' == 6.1.* ]]"
	for want in STACKPROTECTOR_STRONG:OK STRICT_KERNEL_RWX:OK RANDOMIZE_BASE:OK VMAP_STACK:OK \
		SECURITY_YAMA:OK SECCOMP_FILTER:OK SYN_COOKIES:OK HARDENED_USERCOPY:OK \
		KEXEC:FAIL SLAB_MERGE_DEFAULT:FAIL DEBUG_FS:FAIL MODULES:FAIL \
		LIST_HARDENED:N/A RANDOM_KMALLOC_CACHES:N/A SLAB_BUCKETS:N/A REFCOUNT_FULL:N/A DEVKMEM:N/A; do
		opt=${want%%:*}
		exp=${want#*:}
		got=$(result "$j" "CONFIG_$opt")
		check "$arch: CONFIG_$opt is $exp (got $got)" test "$got" = "$exp"
	done
	if [ "$arch" = amd64 ]; then
		check "amd64: CONFIG_MITIGATION_RETPOLINE holds through its 6.1 name CONFIG_RETPOLINE" \
			test "$(jq -r '.findings[] | select(.option == "CONFIG_MITIGATION_RETPOLINE") | .checked' "$j")" = \
			CONFIG_RETPOLINE
		check "amd64: CONFIG_X86_USER_SHADOW_STACK (6.6) is N/A" \
			test "$(result "$j" CONFIG_X86_USER_SHADOW_STACK)" = N/A
	else
		check "arm64: CONFIG_ARM64_GCS (6.13) is N/A" test "$(result "$j" CONFIG_ARM64_GCS)" = N/A
		check "arm64: CONFIG_ARM64_PTR_AUTH_KERNEL is OK" test "$(result "$j" CONFIG_ARM64_PTR_AUTH_KERNEL)" = OK
		check "arm64: CONFIG_SHADOW_CALL_STACK is FAIL" test "$(result "$j" CONFIG_SHADOW_CALL_STACK)" = FAIL
	fi

	# N/A is about the version: told it is 6.6, a 6.6 option the config lacks is a failure.
	"$debkeep" kconfig check --json --kernel-version 6.6 --rules "$rules" "$cfg" >"$tmp/v66.json"
	check "$arch: --kernel-version 6.6 makes CONFIG_LIST_HARDENED a FAIL" \
		test "$(result "$tmp/v66.json" CONFIG_LIST_HARDENED)" = FAIL
	check "$arch: --kernel-version 6.6 makes CONFIG_DEBUG_CREDENTIALS (gone in 6.7) still count" \
		test "$(result "$tmp/v66.json" CONFIG_DEBUG_CREDENTIALS)" != N/A

	# --arch given is the same as --arch derived; the other architecture's rules differ.
	"$debkeep" kconfig check --json --arch "$karch" --rules "$rules" "$cfg" >"$tmp/arch.json"
	check "$arch: --arch $karch agrees with the derived architecture" \
		test "$(field "$tmp/arch.json" .totals)" = "$(field "$j" .totals)"

	# Every flavour's config (generic, cloud, rt) parses and is checked.
	for f in "$dir"/config.*.xz; do
		"$debkeep" kconfig check --rules "$rules" "$f" >/dev/null 2>"$tmp/err"
		st=$?
		check "$arch: $(basename "$f") checked (exit $st)" test "$st" = 1 -o "$st" = 0
	done

	# The fragment fixes every failure: appended to the config, the last assignment wins.
	"$debkeep" kconfig check --fragment --rules "$rules" "$cfg" >"$tmp/fix.config"
	check "$arch: the fragment has a line per failing option" \
		test "$(grep -c '^CONFIG_\|^# CONFIG_.* is not set$' "$tmp/fix.config")" -ge "$((failc * 9 / 10))"
	cat "$tmp/$arch.config" "$tmp/fix.config" >"$tmp/merged.config"
	"$debkeep" kconfig check --json --rules "$rules" "$tmp/merged.config" >"$tmp/merged.json"
	st=$?
	check "$arch: the config with the fragment passes (exit $st, $(field "$tmp/merged.json" .totals.fail) FAIL)" \
		test "$st" = 0
	check "$arch: and every former FAIL is now OK, N/A unchanged" \
		test "$(field "$tmp/merged.json" .totals.ok)" = "$((okc + failc))" -a \
		"$(field "$tmp/merged.json" .totals.na)" = "$nac"

	# A damaged config: file:line and exit 2.
	cp "$tmp/$arch.config" "$tmp/bad.config"
	echo 'CONFIG_BROKEN' >>"$tmp/bad.config"
	lines=$(wc -l <"$tmp/bad.config")
	"$debkeep" kconfig check --rules "$rules" "$tmp/bad.config" >/dev/null 2>"$tmp/err"
	st=$?
	check "$arch: a garbage line is exit 2 naming file:line ($(cat "$tmp/err"))" \
		bash -c "[ $st = 2 ] && grep -q 'bad.config:$lines: ' '$tmp/err'"

	# Speed: the whole check of the plain config, in-process time as the command sees it.
	start=$(date +%s%N)
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		"$debkeep" kconfig check --rules "$rules" "$tmp/$arch.config" >/dev/null
	done
	end=$(date +%s%N)
	echo "# $arch: $(((end - start) / 10000)) us per run of the command (process start included)"
done

echo "1..$n"
[ "$failed" -eq 0 ]
