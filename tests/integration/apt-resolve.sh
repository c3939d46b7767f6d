#!/bin/bash
# apt-resolve.sh - debkeep's package-list resolution must agree with apt's own resolver on real data.
#
#   tests/integration/apt-resolve.sh DEBKEEP [ARCH...]
#
# For each architecture (default: amd64 arm64) and each set below, resolves a package list with
# debkeep and runs `apt-get install -s --no-install-recommends` for the same packages against the
# same bookworm index with an empty dpkg status (a private apt setup: tests/lib/apt-data.sh), then
# requires every package and version to be the same. Prints TAP.
set -uo pipefail

debkeep=$(realpath "${1:?usage: apt-resolve.sh DEBKEEP [ARCH...]}")
shift
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(amd64 arm64)
here=$(cd "$(dirname "$0")" && pwd)
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name|priority floor|requested packages
sets=(
	"required|required|"
	"required+important|important|"
	"required+important+standard|standard|"
	"required+cip|required|busybox binutils openssl openssh-server"
	"required+cip-core-example|required|busybox binutils openssl openssh-server sudo acl auditd tpm2-tools"
)

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

for arch in "${archs[@]}"; do
	index=$("$here/../lib/apt-data.sh" "$cache" "$arch" bookworm 2>"$tmp/fetch.log")
	if [ -z "$index" ] || [ ! -s "$index" ]; then
		not_ok "$arch: fetch the bookworm index through apt ($(tail -n1 "$tmp/fetch.log"))"
		continue
	fi
	# shellcheck source=../lib/apt-data.sh
	source "$here/../lib/apt-data.sh"
	apt_env "$cache" "$arch" bookworm
	for set in "${sets[@]}"; do
		IFS='|' read -r name floor requested <<<"$set"
		list="$tmp/$name.yaml"
		{
			echo "release: bookworm"
			echo "architectures: [$arch]"
			echo "priority: $floor"
			if [ -z "$requested" ]; then
				echo "packages: []"
			else
				echo "packages:"
				for p in $requested; do
					printf '  - name: %s\n    reason: agreement test\n' "$p"
				done
			fi
		} >"$list"
		if ! "$debkeep" pkglist resolve "$list" --index "$index" --format list >"$tmp/ours" 2>"$tmp/err"; then
			not_ok "$arch $name: debkeep resolves ($(head -c 300 "$tmp/err"))"
			continue
		fi
		awk '{ print $1, $2 }' "$tmp/ours" | sort >"$tmp/ours.sorted"
		# The same names apt gets: the priority floor from the index, then the requests.
		names=$(awk -v floor="$floor" -v RS= '
			BEGIN { rank["required"] = 1; rank["important"] = 2; rank["standard"] = 3 }
			{
				pkg = ""; prio = ""
				n = split($0, lines, "\n")
				for (i = 1; i <= n; i++) {
					if (lines[i] ~ /^Package: /) pkg = substr(lines[i], 10)
					else if (lines[i] ~ /^Priority: /) prio = substr(lines[i], 11)
				}
				if (prio in rank && rank[prio] <= rank[floor]) print pkg
			}' "$index" | sort -u)
		# shellcheck disable=SC2086
		if ! apt-get install -s -q --no-install-recommends $names $requested >"$tmp/apt.out" 2>"$tmp/apt.err"; then
			not_ok "$arch $name: apt-get install -s ($(head -c 300 "$tmp/apt.err"))"
			continue
		fi
		awk '$1 == "Inst" { v = $3; gsub(/^\(/, "", v); print $2, v }' "$tmp/apt.out" | sort >"$tmp/apt.sorted"
		count=$(wc -l <"$tmp/apt.sorted")
		if diff -u "$tmp/apt.sorted" "$tmp/ours.sorted" >"$tmp/diff"; then
			ok "$arch $name: the same $count packages and versions as apt"
		else
			not_ok "$arch $name: differs from apt ($count packages by apt)"
			sed 's/^/# /' "$tmp/diff" | head -n 40
		fi
	done
done
echo "1..$n"
[ "$failed" -eq 0 ]
