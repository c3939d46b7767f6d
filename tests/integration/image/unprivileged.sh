#!/bin/bash
# unprivileged.sh - `debkeep build --mode extract` run as nobody (setpriv, no groups) keeps the owners and modes
# the .debs say, which it cannot chown: the image equals, entry for entry and byte for byte, the same build
# run as root. The fixture world (tests/fixtures/repo/make-world.sh) plus two packages built here with
# dpkg-deb from a tree chowned as root:
#   owners      usr/bin/chage-like 0:42 2755, usr/bin/su-like 0:0 4755, etc/shadow-like 0:42 0640,
#               usr/bin/expiry-like a hard link to chage-like, var/local-like/ 0:50 2775, usr/share/ro/ 0:0 0555
#               (a file inside it), var/log/owners/log 0:4 0640 (removed by the normaliser)
#   zz-replace  usr/bin/chage-like again, 0:0 0755: unpacked later (name order), it wins as with dpkg
#
#   tests/integration/image/unprivileged.sh DEBKEEP SRCDIR
#
# Needs root (to chown the fixture and to build as root for the comparison); skips itself otherwise.
# KEEP=1 keeps the temporary directory. Prints TAP.
set -uo pipefail

debkeep=$(realpath "${1:?usage: unprivileged.sh DEBKEEP SRCDIR}")
src=$(realpath "${2:?usage: unprivileged.sh DEBKEEP SRCDIR}")
arch=$(dpkg --print-architecture)

echo "TAP version 13"
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root to make the fixture's owners and to build as root beside nobody"
	exit 0
fi
for tool in setpriv dpkg-deb python3; do
	command -v "$tool" > /dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done

# shellcheck source=../../lib/tap.sh
source "$src/tests/lib/tap.sh"
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
# nobody reads the data root and the list, and writes only in its own directory.
chmod 755 "$tmp"
diag() { sed 's/^/# /' "$@"; }
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
dk() { "$debkeep" --root "$tmp/data" "$@"; }

# deb NAME: the tree in $tmp/pkg/NAME (DEBIAN/control added here) as $tmp/world/extra/NAME_1.0_ARCH.deb,
# owners as they are on disk.
deb() {
	local d=$tmp/pkg/$1
	mkdir -p "$d/DEBIAN" "$tmp/world/extra"
	printf 'Package: %s\nVersion: 1.0\nArchitecture: %s\nMaintainer: Fixture Team <team@example.org>\nDepends: libc6\nDescription: %s for the unprivileged build test\n' \
		"$1" "$arch" "$1" > "$d/DEBIAN/control"
	SOURCE_DATE_EPOCH=1700000000 dpkg-deb -Zgzip --build "$d" "$tmp/world/extra/${1}_1.0_$arch.deb" > /dev/null
}

ARCH=$arch "$src/tests/fixtures/repo/make-world.sh" "$tmp/world" > /dev/null
p=$tmp/pkg/owners
mkdir -p "$p/usr/bin" "$p/etc" "$p/var/local-like" "$p/usr/share/ro" "$p/var/log/owners"
echo chage > "$p/usr/bin/chage-like"
echo su > "$p/usr/bin/su-like"
echo 'root:*:19000:0:99999:7:::' > "$p/etc/shadow-like"
echo ro > "$p/usr/share/ro/file"
echo log > "$p/var/log/owners/log"
ln "$p/usr/bin/chage-like" "$p/usr/bin/expiry-like"
chown 0:42 "$p/usr/bin/chage-like" "$p/etc/shadow-like"
chown 0:50 "$p/var/local-like"
chown 0:4 "$p/var/log/owners/log"
chmod 2755 "$p/usr/bin/chage-like"
chmod 4755 "$p/usr/bin/su-like"
chmod 0640 "$p/etc/shadow-like" "$p/var/log/owners/log"
chmod 2775 "$p/var/local-like"
chmod 0444 "$p/usr/share/ro/file"
chmod 0555 "$p/usr/share/ro"
deb owners
mkdir -p "$tmp/pkg/zz-replace/usr/bin"
echo 'chage, replaced' > "$tmp/pkg/zz-replace/usr/bin/chage-like"
chmod 0755 "$tmp/pkg/zz-replace/usr/bin/chage-like"
deb zz-replace
# Listed to a file first: grep -q stopping early would kill tar with SIGPIPE, and pipefail fail the check.
dpkg-deb --fsys-tarfile "$tmp/world/extra/owners_1.0_$arch.deb" | tar -tv --numeric-owner > "$tmp/owners.list" &&
	grep -q -- '^-rwxr-sr-x 0/42 .* ./usr/bin/chage-like$' "$tmp/owners.list"
ok $? "the fixture .deb says usr/bin/chage-like is 0:42 2755"

dk init > /dev/null && dk import "$tmp/world/v1" --into fixture > /dev/null && dk import "$tmp/world/extra" --into fixture > /dev/null &&
	dk snapshot create s1 --from-local fixture > /dev/null
ok $? "fixture world and the two packages imported and snapshotted"
cat > "$tmp/list.yaml" << 'EOF'
release: bookworm
architectures: [amd64, arm64]
priority: required
packages:
  - name: foo-utils
    reason: the product's tool
  - name: owners
    reason: files of other owners and set-id modes
  - name: zz-replace
    reason: replaces one of them later
exclude: []
EOF

mkdir -p "$tmp/root" "$tmp/nobody/stage"
chown -R nobody:nogroup "$tmp/nobody"
dk build --snapshot s1 --list "$tmp/list.yaml" --arch "$arch" --mode extract --tmpdir "$tmp/root" \
	-o "$tmp/root/image.tar" > "$tmp/root.out" 2>&1
ok $? "extract build as root"
diag "$tmp/root.out"
nobody "$debkeep" --root "$tmp/data" build --snapshot s1 --list "$tmp/list.yaml" --arch "$arch" --mode extract \
	--tmpdir "$tmp/nobody/stage" -o "$tmp/nobody/image.tar" > "$tmp/nobody.out" 2>&1
ok $? "extract build as nobody (no groups)"
diag "$tmp/nobody.out"
[ -z "$(ls -A "$tmp/nobody/stage")" ]
ok $? "as nobody: no staging left"

# NAME TYPE UID:GID MODE of every entry, sorted as in the tar.
entries() {
	python3 - "$1" << 'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t:
        print(m.name, m.type.decode(), f"{m.uid}:{m.gid}", oct(m.mode))
EOF
}
entries "$tmp/root/image.tar" > "$tmp/root.entries"
entries "$tmp/nobody/image.tar" > "$tmp/nobody.entries"
check() { # WHAT LINE
	grep -qxF "$2" "$tmp/nobody.entries"
	ok $? "as nobody, $1: $2"
}
check "a set-group-id file of group 42 (the old inode's other name)" "./usr/bin/expiry-like 0 0:42 0o2755"
check "a set-user-id file" "./usr/bin/su-like 0 0:0 0o4755"
check "a file of group 42" "./etc/shadow-like 0 0:42 0o640"
check "a set-group-id directory of group 50" "./var/local-like 5 0:50 0o2775"
check "a read-only directory" "./usr/share/ro 5 0:0 0o555"
check "a file a later package replaced" "./usr/bin/chage-like 0 0:0 0o755"
check "the skeleton's sticky /tmp" "./tmp 5 0:0 0o1777"
! grep -q '^./var/log/owners/log ' "$tmp/nobody.entries"
ok $? "as nobody, the normaliser removed var/log/owners/log"
diff -u "$tmp/root.entries" "$tmp/nobody.entries" > "$tmp/entries.diff"
ok $? "entry for entry (name, type, owner, mode) the same as the root build ($(wc -l < "$tmp/root.entries") entries)"
diag "$tmp/entries.diff"
cmp -s "$tmp/root/image.tar" "$tmp/nobody/image.tar"
ok $? "the two images are byte-identical"
cmp -s "$tmp/root/image.tar.spdx.json" "$tmp/nobody/image.tar.spdx.json" &&
	cmp -s "$tmp/root/image.tar.manifest" "$tmp/nobody/image.tar.manifest"
ok $? "and so are their manifests and SBOMs"
tap_end
