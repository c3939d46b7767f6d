#!/bin/bash
# interrupt.sh - a root-mode install killed half-way leaves no mount and no process behind.
#
#   tests/integration/image/interrupt.sh DEBKEEP SRCDIR INSTALL-DRIVER
#
# Runs dk_image_install (through install-driver) on the real CIP snapshot (tests/lib/real-snapshot.sh),
# waits until dpkg runs in the chroot, then kills the installer with SIGINT and, in a second run, with
# SIGKILL (no handler can run): the chroot's processes must be gone and nothing mounted under the
# staging root, because the mounts live in a namespace that dies with its processes. Needs root.
# Prints TAP.
set -uo pipefail

debkeep=$(realpath "${1:?usage: interrupt.sh DEBKEEP SRCDIR INSTALL-DRIVER}")
src=$(realpath "${2:?usage: interrupt.sh DEBKEEP SRCDIR INSTALL-DRIVER}")
driver=$(realpath "${3:?usage: interrupt.sh DEBKEEP SRCDIR INSTALL-DRIVER}")
arch=$(dpkg --print-architecture)
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}

echo "TAP version 13"
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP root mode needs root"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf --one-file-system "$tmp"' EXIT

# shellcheck source=../../lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/tap.sh"
# Processes whose root directory is inside dir: the chroot's.
chrooted() { # DIR
	local p c=0
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/root" 2>/dev/null)" in "$1"/*|"$1") c=$((c + 1)) ;; esac
	done
	echo "$c"
}

root=$("$src/tests/lib/real-snapshot.sh" "$debkeep" "$cache/image-root-$arch" "$arch" \
	"$src/docs/examples/cip-core.yaml" cip 2> "$tmp/snap.err")
ok $? "the real CIP snapshot ($root)"

for sig in INT KILL; do
	staging=$tmp/staging-$sig
	"$driver" "$root" cip "$arch" "$staging" > "$tmp/$sig.log" 2>&1 &
	pid=$!
	for _ in $(seq 300); do
		grep -q 'dpkg in the chroot' "$tmp/$sig.log" && [ "$(chrooted "$staging")" -gt 0 ] && break
		sleep 0.2
	done
	before=$(chrooted "$staging")
	[ "$before" -gt 0 ]
	ok $? "SIG$sig: dpkg runs in the chroot ($before processes) before the signal"
	kill -s "$sig" "$pid"
	wait "$pid" 2>/dev/null
	for _ in $(seq 50); do [ "$(chrooted "$staging")" -eq 0 ] && break; sleep 0.1; done
	after=$(chrooted "$staging")
	[ "$after" -eq 0 ]
	ok $? "SIG$sig: no process left in the chroot ($after)"
	! grep -q " $staging" /proc/self/mounts
	ok $? "SIG$sig: nothing mounted under the staging root"
done

tap_end
