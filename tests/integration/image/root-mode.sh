#!/bin/bash
# root-mode.sh - `debkeep build --mode root` on the real bookworm CIP Core set: reproducible, working, and
# the same package set as mmdebstrap installs; a failing maintainer script leaves nothing behind.
#
#   tests/integration/image/root-mode.sh DEBKEEP SRCDIR [INSTALL-DRIVER]
#
# Needs root, network access to the Debian archive the host's apt uses (the .debs are cached in
# /var/cache/debkeep-test through tests/lib/real-snapshot.sh), mmdebstrap, dpkg-deb, gpg, zstd.
# 1. Two builds of docs/examples/cip-core.yaml from the same snapshot, in different temporary
#    directories, with umask 022 and 077, a second apart: images, manifests and SBOMs byte-identical
#    (on a difference, `debkeep diff` explains it in the TAP output).
# 2. The image, unpacked, in a chroot: `dpkg --audit` silent, every package "ii", `apt-get check`,
#    /bin/sh, openssl and busybox run.
# 3. mmdebstrap --variant=custom --include=<the manifest's packages>, from the snapshot published
#    signed and served by `debkeep serve`, installs exactly the set the manifest lists.
# 4. A package whose postinst exits 1: exit 2 naming the package and the script, no mount left, the
#    staging root removed, no output file. Without root, dk_image_install says to use extract mode.
# KEEP=1 keeps the temporary directory. Prints TAP.
set -uo pipefail

debkeep=$(realpath "${1:?usage: root-mode.sh DEBKEEP SRCDIR [INSTALL-DRIVER]}")
src=$(realpath "${2:?usage: root-mode.sh DEBKEEP SRCDIR [INSTALL-DRIVER]}")
driver=${3:-}
arch=$(dpkg --print-architecture)
list=$src/docs/examples/cip-core.yaml
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}

echo "TAP version 13"
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP root mode needs root"
	exit 0
fi
for tool in mmdebstrap dpkg-deb gpg zstd; do
	command -v "$tool" > /dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done

tmp=$(mktemp -d)
# apt verifies signatures as its sandbox user: the test key must be readable by it.
chmod 755 "$tmp"
server=
cleanup() {
	[ -z "$server" ] || kill "$server" 2>/dev/null
	[ ! -d "$tmp/gnupg" ] || gpgconf --homedir "$tmp/gnupg" --kill gpg-agent 2>/dev/null
	# The cached data root must not keep a record of a publication under $tmp.
	[ -z "${root:-}" ] || "$debkeep" --root "$root" publish drop --suite bookworm --prefix dk \
		--public "$tmp/public" > /dev/null 2>&1
	# Nothing may be mounted under tmp (a check below); -xdev keeps a bug from costing the host.
	[ -n "${KEEP:-}" ] || rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

# shellcheck source=../../lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/tap.sh"
diag() { sed 's/^/# /' "$@"; }
no_mounts() { ! grep -q " $tmp" /proc/self/mounts; }

root=$("$src/tests/lib/real-snapshot.sh" "$debkeep" "$cache/image-root-$arch" "$arch" "$list" cip 2> "$tmp/snap.err")
# The snapshot holds the .debs' own control data, where apt says "Priority: important"; the archive's
# override (required) comes only with a mirror. Name apt so the image has it, as a product list would.
sed 's/^exclude: \[\]$//' "$list" > "$tmp/list.yaml"
printf '  - name: apt\n    reason: apt-get check in the image\n\nexclude: []\n' >> "$tmp/list.yaml"
list=$tmp/list.yaml
ok $? "the real bookworm .debs of the CIP list, imported and snapshotted ($root)"
[ -n "$root" ] || { diag "$tmp/snap.err"; echo "1..$n"; exit 1; }

if [ -n "$driver" ]; then
	mkdir -m 1777 "$tmp/nobody"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$driver" "$root" cip "$arch" "$tmp/nobody/root" \
		> /dev/null 2> "$tmp/nobody.err"
	st=$?
	[ $st -eq 2 ] && grep -q -- '--mode root needs root; use --mode extract' "$tmp/nobody.err"
	ok $? "without root: exit 2 and a pointer to extract mode ($(tail -n 1 "$tmp/nobody.err"))"
	[ -z "$(find "$tmp/nobody/root" -mindepth 1 -print -quit)" ]
	ok $? "without root: nothing written"
fi

build() { # NAME UMASK [ARGS...]
	local name=$1 mask=$2
	shift 2
	mkdir -p "$tmp/$name" "$tmp/tmp-$name"
	(umask "$mask" && TMPDIR=$tmp/tmp-$name "$debkeep" --root "$root" build --snapshot cip --list "$list" \
		--arch "$arch" --mode root --tmpdir "$tmp/tmp-$name" -o "$tmp/$name/image.tar.zst" \
		--log "$tmp/$name.log" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err")
}

start=$(date +%s)
build a 022
ok $? "root-mode build A (umask 022) in $(($(date +%s) - start)) s"
[ -s "$tmp/a/image.tar.zst" ] || { diag "$tmp/a.err"; tail -n 30 "$tmp/a.log" | diag; }
sleep 1
start=$(date +%s)
build b 077
ok $? "root-mode build B (umask 077, other TMPDIR, a second later) in $(($(date +%s) - start)) s"

for f in image.tar.zst image.tar.zst.manifest image.tar.zst.cdx.json image.tar.zst.spdx.json; do
	cmp -s "$tmp/a/$f" "$tmp/b/$f"
	st=$?
	ok $st "$f byte-identical in both builds"
	[ $st -eq 0 ] || "$debkeep" diff "$tmp/a/$f" "$tmp/b/$f" 2>&1 | head -n 60 | diag
done
no_mounts
ok $? "no mount left under the temporary directories"
[ -z "$(find "$tmp/tmp-a" "$tmp/tmp-b" -mindepth 1 -print -quit)" ]
ok $? "the staging roots are gone"

# The image works: unpacked as it would be on a device, checked from inside.
rootfs=$tmp/rootfs
mkdir -p "$rootfs"
tar --zstd -xpf "$tmp/a/image.tar.zst" -C "$rootfs" --numeric-owner
ok $? "the image unpacks"
in_root() { chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }
out=$(in_root dpkg --audit 2>&1)
[ -z "$out" ]
ok $? "dpkg --audit is silent"
[ -z "$out" ] || echo "$out" | diag
in_root dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' > "$tmp/status" 2>&1
bad=$(grep -cv '^ii ' "$tmp/status")
total=$(wc -l < "$tmp/status")
[ "$bad" -eq 0 ] && [ "$total" -eq "$(wc -l < "$tmp/a/image.tar.zst.manifest")" ]
ok $? "dpkg -l: all $total packages 'ii', as many as the manifest lists"
if grep -q '^apt ' "$tmp/a/image.tar.zst.manifest"; then
	in_root apt-get check > "$tmp/apt-check" 2>&1
	ok $? "apt-get check passes"
else
	# The list's "priority: required" floor brings apt in only where the snapshot knows the archive's
	# Priority override (required); apt's own control file says "important".
	ok 1 "apt-get check passes: apt is not in the image (its .deb says Priority: important)"
fi
in_root /bin/sh -c true
ok $? "/bin/sh -c true runs"
in_root openssl version > "$tmp/openssl" 2>&1
ok $? "openssl version runs: $(cat "$tmp/openssl")"
in_root busybox true
ok $? "busybox true runs"

# The same set from mmdebstrap, fed by our signed publication over HTTP.
fpr=$("$src/tests/fixtures/publish/make-key.sh" "$tmp/gnupg")
GNUPGHOME=$tmp/gnupg gpg --batch --export "$fpr" > "$tmp/archive-key.gpg"
"$debkeep" --root "$root" publish cip --prefix dk --suite bookworm --codename bookworm --sign "$fpr" \
	--gnupghome "$tmp/gnupg" --public "$tmp/public" > "$tmp/publish.out" 2>&1
ok $? "the snapshot published, signed with a test key"
"$debkeep" --root "$root" serve --listen 127.0.0.1:0 --public "$tmp/public" > "$tmp/serve.out" 2> "$tmp/serve.err" &
server=$!
for _ in $(seq 50); do grep -q http "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*/' "$tmp/serve.out")
ok $? "debkeep serve listens ($url)"
include=$(awk '{ print $1 }' "$tmp/a/image.tar.zst.manifest" | paste -sd, -)
start=$(date +%s)
mmdebstrap --mode=root --variant=custom --include="$include" --keyring="$tmp/archive-key.gpg" \
	--architectures="$arch" bookworm "$tmp/mm" "${url}dk" > "$tmp/mm.log" 2>&1
st=$?
ok $st "mmdebstrap --variant=custom from the published snapshot in $(($(date +%s) - start)) s"
[ $st -eq 0 ] || tail -n 20 "$tmp/mm.log" | diag
dpkg-query --admindir="$tmp/mm/var/lib/dpkg" -W -f '${Package} ${Version} ${Architecture}\n' | sort > "$tmp/mm.set"
awk '{ print $1, $2, $3 }' "$tmp/a/image.tar.zst.manifest" | sort > "$tmp/dk.set"
diff -u "$tmp/mm.set" "$tmp/dk.set" > "$tmp/set.diff"
st=$?
ok $st "mmdebstrap installed the same $(wc -l < "$tmp/dk.set") packages, same versions"
[ $st -eq 0 ] || diag "$tmp/set.diff"
kill "$server"
wait "$server" 2>/dev/null
server=

# A maintainer script that fails: the error names it, and nothing is left behind.
bad=$tmp/bad-pkg
mkdir -p "$bad/DEBIAN"
cat > "$bad/DEBIAN/control" <<EOF
Package: debkeep-failing
Version: 1.0
Architecture: all
Maintainer: debkeep tests <tests@debkeep.invalid>
Priority: optional
Description: a package whose postinst fails
EOF
printf '#!/bin/sh\necho "failing on purpose" >&2\nexit 1\n' > "$bad/DEBIAN/postinst"
chmod 755 "$bad/DEBIAN/postinst"
dpkg-deb --root-owner-group -b "$bad" "$tmp/debkeep-failing_1.0_all.deb" > /dev/null
broot=$tmp/bad-root
"$debkeep" --root "$broot" init > /dev/null &&
	"$debkeep" --root "$broot" import --into cip "$cache/debs/$arch" > /dev/null &&
	"$debkeep" --root "$broot" import --into cip "$tmp/debkeep-failing_1.0_all.deb" > /dev/null &&
	"$debkeep" --root "$broot" snapshot create bad --from-local cip > /dev/null
ok $? "a snapshot of the CIP set plus debkeep-failing"
cat > "$tmp/bad.yaml" <<EOF
release: bookworm
architectures: [$arch]
priority: required
packages:
  - name: debkeep-failing
    reason: its postinst exits 1
EOF
mkdir -p "$tmp/tmp-bad" "$tmp/bad"
"$debkeep" --root "$broot" build --snapshot bad --list "$tmp/bad.yaml" --arch "$arch" --mode root \
	--tmpdir "$tmp/tmp-bad" -o "$tmp/bad/image.tar.zst" --log "$tmp/bad.log" > "$tmp/bad.out" 2> "$tmp/bad.err"
st=$?
[ $st -eq 2 ]
ok $? "a failing postinst: exit 2 (got $st)"
grep -q 'debkeep-failing: post-installation script failed (exit 1)' "$tmp/bad.err"
ok $? "the error names the package and the script: $(tail -n 1 "$tmp/bad.err")"
grep -q 'failing on purpose' "$tmp/bad.log"
ok $? "the script's own output is in the build log"
no_mounts
ok $? "no mount left behind"
[ -z "$(ls -A "$tmp/tmp-bad")" ]
ok $? "the staging root is removed"
[ -z "$(ls -A "$tmp/bad")" ]
ok $? "no output file"

tap_end
