#!/bin/bash
# build.sh - debkeep build --mode extract on the fixture world, as TAP: two builds at different times, in
# different temporary directories and with different umasks give the same image, manifest and SBOMs; the
# image's dpkg status is what dpkg-query reads; a snapshot missing a dependency and hostile .debs are exit 2
# with no output file, no staging left in ROOT/tmp and nothing written outside.
#
#   build.sh DEBKEEP SOURCE_ROOT
set -u
debkeep=$1
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/debkeep-build.XXXXXX")
trap 'umount "$tmp/full-stage" "$tmp/full-out" 2>/dev/null; rm -rf "$tmp"' EXIT
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
diag() { sed 's/^/# /'; }
empty() { for d; do [ -z "$(ls -A "$d")" ] || return 1; done; }

root=$tmp/data
dk() { "$debkeep" --root "$root" "$@"; }

"$src/tests/fixtures/repo/make-world.sh" "$tmp/world" >/dev/null
"$src/tests/fixtures/image/make-hostile.sh" "$tmp/hostile"
dk init >/dev/null
dk import "$tmp/world/v1" --into cip >/dev/null
dk snapshot create s1 --from-local cip >/dev/null

cat >"$tmp/list.yaml" <<'EOF'
release: bookworm
architectures: [amd64]
priority: required
packages:
  - name: foo-utils
    reason: the product's tool
  - name: mailer
    reason: a mail transport through an alternative
  - name: all-docs
    reason: an Architecture all package
exclude: []
EOF

# --- two builds, byte for byte ---
mkdir -p "$tmp/a" "$tmp/b" "$tmp/ta" "$tmp/tb"
(umask 022 && TMPDIR=$tmp/ta LC_ALL=C dk build --snapshot s1 --list "$tmp/list.yaml" --arch amd64 \
	-o "$tmp/a/img.tar.zst" --mode extract --log "$tmp/a/log") >"$tmp/a/out" 2>&1
check "first extract build succeeds" test $? -eq 0
diag <"$tmp/a/out"
sleep 1
(umask 077 && TMPDIR=$tmp/tb LC_ALL=C.UTF-8 dk build --snapshot s1 --list "$tmp/list.yaml" --arch amd64 \
	-o "$tmp/b/img.tar.zst" --mode extract --tmpdir "$tmp/tb" --json) >"$tmp/b/out" 2>"$tmp/b/log"
check "second build (umask 077, other TMPDIR and --tmpdir, a second later) succeeds" test $? -eq 0
for f in img.tar.zst img.tar.zst.manifest img.tar.zst.cdx.json img.tar.zst.spdx.json; do
	if cmp -s "$tmp/a/$f" "$tmp/b/$f"; then
		ok "$f is byte-identical"
	else
		not_ok "$f is byte-identical"
		"$debkeep" diff "$tmp/a/$f" "$tmp/b/$f" 2>&1 | head -40 | diag
	fi
done
check "--json names the image and its sha256" python3 -c '
import json, sys, hashlib
r = json.load(open(sys.argv[1]))
assert r["packages"] == 7 and r["mode"] == "extract", r
assert r["sha256"] == hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
' "$tmp/b/out" "$tmp/b/img.tar.zst"
check "manifest: name version arch source source-version, sorted" diff -u - "$tmp/a/img.tar.zst.manifest" <<'EOF'
all-docs 3.0 amd64 docs 3.0
base-files 12.4 amd64 base-files 12.4
foo-utils 1.2-1 amd64 foo 1.2-1
libc6 2.36-9 amd64 glibc 2.36-9
libfoo1 1.2-1 amd64 foo 1.2-1
mail-acme 2.0-1 amd64 mail-acme 2.0-1
mailer 1.0-1 amd64 mailer 1.0-1
EOF
check "no staging left in ROOT/tmp or --tmpdir" empty "$root/tmp" "$tmp/tb"

# --- what is inside ---
mkdir -p "$tmp/x"
zstd -qdc "$tmp/a/img.tar.zst" >"$tmp/a/img.tar"
tar -xf "$tmp/a/img.tar" -C "$tmp/x"
check "dpkg-query reads the status: every package unpacked" \
	test "$(dpkg-query --admindir="$tmp/x/var/lib/dpkg" -W -f '${db:Status-Abbrev}\n' | sort | uniq -c | tr -s ' ')" = " 7 iU "
check "dpkg's file list of a package" diff -u - "$tmp/x/var/lib/dpkg/info/libfoo1.list" <<'EOF'
/.
/usr
/usr/share
/usr/share/doc
/usr/share/doc/libfoo1
/usr/share/doc/libfoo1/README
EOF
check "var/lib/dpkg/arch" test "$(cat "$tmp/x/var/lib/dpkg/arch")" = amd64
check "entries sorted, owners numeric, no atime/ctime in pax headers" python3 -c '
import sys, tarfile
names = []
with tarfile.open(sys.argv[1]) as t:
    for m in t:
        names.append(m.name.encode())
        assert m.uname == "" and m.gname == "", m.name
        assert not set(m.pax_headers) & {"atime", "ctime", "SCHILY.dev", "SCHILY.ino"}, m.pax_headers
assert names == sorted(names), "not sorted"
' "$tmp/a/img.tar"
epoch=$(python3 -c 'import sys, tarfile; print(max(m.mtime for m in tarfile.open(sys.argv[1])))' "$tmp/a/img.tar")
created=$(dk snapshot show s1 --json | python3 -c 'import json, sys, calendar, time
print(calendar.timegm(time.strptime(json.load(sys.stdin)["created"], "%Y-%m-%dT%H:%M:%SZ")))')
check "no mtime after the snapshot's date ($epoch <= $created)" test "$epoch" -le "$created"

# --- --epoch ---
dk build --snapshot s1 --list "$tmp/list.yaml" --arch amd64 -o "$tmp/a/e.tar" --mode extract --epoch 1000000000 \
	>/dev/null 2>&1
check "--epoch clamps every mtime" test "$(python3 -c 'import sys, tarfile
print(max(m.mtime for m in tarfile.open(sys.argv[1])))' "$tmp/a/e.tar")" = 1000000000

# --- a snapshot missing a dependency ---
mkdir -p "$tmp/partial"
cp "$tmp/world/v1"/foo-utils_*.deb "$tmp/world/v1"/libfoo1_*.deb "$tmp/world/v1"/base-files_*.deb "$tmp/partial/"
dk import "$tmp/partial" --into partial >/dev/null
dk snapshot create s2 --from-local partial >/dev/null
cat >"$tmp/list2.yaml" <<'EOF'
release: bookworm
architectures: [amd64]
packages:
  - name: foo-utils
    reason: the product's tool
EOF
dk build --snapshot s2 --list "$tmp/list2.yaml" --arch amd64 -o "$tmp/c/img.tar" --mode extract >"$tmp/out" 2>&1
rc=$?
check "missing dependency: exit 2 (got $rc)" test $rc -eq 2
check "missing dependency: the message names the package and what it lacks" grep -q "libc6" "$tmp/out"
diag <"$tmp/out"
check "missing dependency: no output, no staging" eval 'test ! -e "$tmp/c/img.tar" && empty "$root/tmp"'

# --- hostile .debs ---
mkdir -p "$tmp/c"
for evil in dotdot symlink hardlink device; do
	dk import "$tmp/hostile/evil-${evil}_1.0_amd64.deb" --into "evil-$evil" >/dev/null
	dk snapshot create "evil-$evil" --from-local "evil-$evil" >/dev/null
	printf 'release: bookworm\narchitectures: [amd64]\npackages:\n  - name: evil-%s\n    reason: hostile\n' \
		"$evil" >"$tmp/evil.yaml"
	dk build --snapshot "evil-$evil" --list "$tmp/evil.yaml" --arch amd64 -o "$tmp/c/evil.tar" --mode extract \
		>"$tmp/out" 2>&1
	rc=$?
	check "evil-$evil: exit 2 (got $rc)" test $rc -eq 2
	if [ $evil = device ]; then
		check "evil-$evil: the message names the member" grep -q "evil-device: data.tar: ./dev/evil: device node" \
			"$tmp/out"
	else
		check "evil-$evil: 'escapes the root' naming the package" grep -q "evil-$evil: data.tar: .*escapes the root" \
			"$tmp/out"
	fi
	diag <"$tmp/out"
	check "evil-$evil: no image, manifest or SBOM, no staging left" \
		empty "$tmp/c" "$root/tmp"
done
check "nothing written outside the root" test ! -e "$root/evil-outside" -a ! -e "$root/tmp/evil-outside" \
	-a ! -e /tmp/evil-through-symlink

# --- a full disk (small tmpfs mounts; root only) ---
mkdir -p "$tmp/full-stage" "$tmp/full-out"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=16k tmpfs "$tmp/full-stage" 2>/dev/null; then
	dk build --snapshot s1 --list "$tmp/list.yaml" --arch amd64 -o "$tmp/full-out/img.tar" --mode extract \
		--tmpdir "$tmp/full-stage" >"$tmp/out" 2>&1
	rc=$?
	check "staging on a full disk: exit 2 (got $rc)" test $rc -eq 2
	check "staging on a full disk: the message names the package and the cause" \
		grep -q "debkeep: [a-z0-9.+-]*: data.tar.*No space left on device" "$tmp/out"
	diag <"$tmp/out"
	check "staging on a full disk: no output, no staging left" empty "$tmp/full-out" "$tmp/full-stage"
	umount "$tmp/full-stage"
	mount -t tmpfs -o size=8k tmpfs "$tmp/full-out"
	dk build --snapshot s1 --list "$tmp/list.yaml" --arch amd64 -o "$tmp/full-out/img.tar" --mode extract \
		>"$tmp/out" 2>&1
	rc=$?
	check "output on a full disk: exit 2 (got $rc)" test $rc -eq 2
	diag <"$tmp/out"
	check "output on a full disk: nothing under the output names, no staging left" \
		empty "$tmp/full-out" "$root/tmp"
	umount "$tmp/full-out"
else
	n=$((n + 1))
	echo "ok $n - # SKIP full-disk checks need root and tmpfs"
fi

# --- usage ---
dk build --snapshot s1 --arch amd64 -o "$tmp/c/x.tar" >/dev/null 2>&1
check "a missing --list is a usage error (exit 2)" test $? -eq 2
dk build --snapshot nosuch --list "$tmp/list.yaml" --arch amd64 -o "$tmp/c/x.tar" --mode extract >/dev/null 2>&1
check "an unknown snapshot is exit 2" test $? -eq 2
dk build --snapshot s1 --list "$tmp/list.yaml" --arch arm64 -o "$tmp/c/x.tar" --mode extract >"$tmp/out" 2>&1
check "an architecture the list does not name is exit 2" test $? -eq 2

echo "1..$n"
[ $failed -eq 0 ]
