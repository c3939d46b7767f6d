#!/bin/bash
# diff-real.sh - debkeep diff on real inputs made by the real tools, as TAP:
#   tarballs of one tree that differ only in mtimes, only in member order (GNU tar);
#   a .deb and its security update from the Debian archive (apt-get download, cached);
#   ext4 images from mke2fs -d with another UUID, and with the same -U, hash seed and fake time;
#   a GPT disk image (sfdisk) holding them; cpio (initramfs) archives; a .deb inside a tar;
#   a tree with a symlink loop; bounds on time and output.
#   diff-real.sh DEBKEEP
set -u
bin=$1
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}/diff-debs
tmp=$(mktemp -d "${TMPDIR:-/tmp}/debkeep-diff.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C TZ=UTC
n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
# run NAME WANT-EXIT ARGS...: output in $tmp/NAME.out
run() {
	local name=$1 want=$2 st
	shift 2
	"$bin" diff "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	st=$?
	[ "$st" = "$want" ] || { echo "# $name: exit $st, expected $want"; sed 's/^/#   /' "$tmp/$name.err" | head -5; }
	return $([ "$st" = "$want" ])
}

# A real tree: a slice of this system's /usr.
src=$tmp/src
mkdir -p "$src"
cp -a /usr/share/doc/tar /usr/share/doc/gzip /usr/share/common-licenses "$src/" 2>/dev/null
cp -a /usr/bin/true /usr/bin/false "$src/"
ln -s true "$src/alias"

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700000000 -C "$src" -cf - . | gzip -n >"$tmp/m1.tar.gz"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700099999 -C "$src" -cf - . | gzip -n >"$tmp/m2.tar.gz"
run mtime 1 "$tmp/m1.tar.gz" "$tmp/m2.tar.gz"
ok $? "tarballs differing in mtimes: exit 1"
grep -qx 'verdict: different: mtime only' "$tmp/mtime.out"
ok $? "the verdict says 'mtime only' in one line"

(cd "$src" && find . | sort >"$tmp/list" && sort -r "$tmp/list" >"$tmp/rlist")
tar --no-recursion --owner=0 --group=0 --numeric-owner --mtime=@1700000000 -C "$src" -cf "$tmp/o1.tar" -T "$tmp/list"
tar --no-recursion --owner=0 --group=0 --numeric-owner --mtime=@1700000000 -C "$src" -cf "$tmp/o2.tar" -T "$tmp/rlist"
xz -T1 -c "$tmp/o2.tar" >"$tmp/o2.tar.xz"
run order 1 "$tmp/o1.tar" "$tmp/o2.tar"
ok $? "tarballs differing in member order: exit 1"
grep -qx 'verdict: different: order only' "$tmp/order.out"
ok $? "the verdict says 'order only' in one line"
run order-xz 1 "$tmp/o1.tar" "$tmp/o2.tar.xz"
grep -q 'order only' "$tmp/order-xz.out" && grep -q 'compression=xz: only in b' "$tmp/order-xz.out"
ok $? "a .tar against a .tar.xz: compared as tars"
run same 0 "$tmp/o1.tar" "$tmp/o1.tar"
grep -qx 'verdict: identical' "$tmp/same.out"
ok $? "a tarball against itself: identical, exit 0"
"$bin" diff --jobs 1 "$tmp/m1.tar.gz" "$tmp/m2.tar.gz" >"$tmp/j1.out" 2>&1
cmp -s "$tmp/j1.out" "$tmp/mtime.out"
ok $? "one thread or two: the same report"

# cpio, as initramfs builders make it.
(cd "$src" && find . | sort | cpio --quiet -o -H newc | gzip -n >"$tmp/c1.cpio.gz")
touch -d @1600000000 "$src/true"
(cd "$src" && find . | sort | cpio --quiet -o -H newc | gzip -n >"$tmp/c2.cpio.gz")
run cpio 1 "$tmp/c1.cpio.gz" "$tmp/c2.cpio.gz"
ok $? "cpio archives: a difference found"
grep -q '^true \[mtime only\]' "$tmp/cpio.out"
ok $? "cpio: the member and its cause named"

# The symlink loop: links are compared, never followed.
mkdir -p "$tmp/l1/d" "$tmp/l2/d"
ln -s ../d "$tmp/l1/d/self"; ln -s a2 "$tmp/l1/a1"; ln -s a1 "$tmp/l1/a2"
ln -s ../d "$tmp/l2/d/self"; ln -s a2 "$tmp/l2/a1"; ln -s a3 "$tmp/l2/a2"
run loop 1 --exclude . --exclude d --exclude 'd/*' --exclude a1 "$tmp/l1" "$tmp/l2"
grep -q '^a2 \[' "$tmp/loop.out" && grep -q 'symlink target: a1 -> a3' "$tmp/loop.out"
ok $? "a tree with a symlink loop: the link's target reported, no hang"

# ext4 images, no mounting.
if command -v mke2fs >/dev/null; then
	mkfs() {
		rm -f "$1"
		truncate -s 24M "$1"
		E2FSPROGS_FAKE_TIME=${4:-} mke2fs -q -t ext4 -d "$src" -U "$2" -E hash_seed="$3" "$1"
	}
	mkfs "$tmp/e1.img" 0c1f5a4e-0000-4000-8000-000000000001 3d1e2c4b-0000-4000-8000-000000000009 1700000000
	mkfs "$tmp/e2.img" 0c1f5a4e-0000-4000-8000-000000000002 3d1e2c4b-0000-4000-8000-000000000009 1700000000
	mkfs "$tmp/e3.img" 0c1f5a4e-0000-4000-8000-000000000001 3d1e2c4b-0000-4000-8000-000000000009 1700000000
	run ext4-uuid 1 "$tmp/e1.img" "$tmp/e2.img"
	grep -qx 'verdict: different: ext4 UUID only' "$tmp/ext4-uuid.out"
	ok $? "ext4 images with different UUIDs: 'ext4 UUID only'"
	run ext4-same 0 "$tmp/e1.img" "$tmp/e3.img"
	grep -qx 'verdict: identical' "$tmp/ext4-same.out"
	ok $? "ext4 with the same -U, hash_seed and E2FSPROGS_FAKE_TIME: identical"
	if command -v sfdisk >/dev/null; then
		for i in 1 2; do
			truncate -s 40M "$tmp/d$i.img"
			printf 'label: gpt\nlabel-id: 5a5a5a5a-0000-4000-8000-00000000000%s\nsize=2M, type=uefi\nsize=24M, type=linux\n' \
				"$i" | sfdisk -q "$tmp/d$i.img"
			dd if="$tmp/e$i.img" of="$tmp/d$i.img" bs=1M seek=3 conv=notrunc status=none
		done
		run gpt 1 "$tmp/d1.img" "$tmp/d2.img"
		grep -q '^p2!/<superblock> \[ext4 UUID only\]' "$tmp/gpt.out" && grep -q 'gpt.disk_guid: ' "$tmp/gpt.out"
		ok $? "GPT disk images: partitions walked, the file system inside compared"
		dd if=/dev/zero of="$tmp/d2.img" bs=1 seek=$((512 + 72)) count=8 conv=notrunc status=none
		printf '\xff\xff\xff\xff' | dd of="$tmp/d2.img" bs=1 seek=$((512 + 80)) conv=notrunc status=none
		run gpt-bogus 2 "$tmp/d1.img" "$tmp/d2.img"
		grep -q 'GPT header: bogus partition array' "$tmp/gpt-bogus.err"
		ok $? "a bogus partition table: exit 2 and a clear message"
	else
		skip "GPT disk images" "no sfdisk"
		skip "bogus partition table" "no sfdisk"
	fi
else
	for t in ext4-uuid ext4-same gpt gpt-bogus; do skip "$t" "no mke2fs"; done
fi

# A package and its security update, from the archive through apt.
pkg=libexpat1
old=2.5.0-1+deb12u2
mkdir -p "$cache"
have_debs() { ls "$cache"/${pkg}_*.deb 2>/dev/null | wc -l; }
if [ "$(have_debs)" -lt 2 ]; then
	new=$(apt-cache madison "$pkg" 2>/dev/null | awk -v o="$old" '$3 != o { print $3; exit }')
	(cd "$cache" && [ -n "$new" ] && apt-get download -q "$pkg=$old" "$pkg=$new" >/dev/null 2>&1)
fi
debs=("$cache"/${pkg}_*.deb)
if [ "${#debs[@]}" -ge 2 ] && [ -f "${debs[0]}" ]; then
	start=$(date +%s%N)
	run deb 1 "${debs[0]}" "${debs[1]}"
	st=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	ok $st "two versions of $pkg: differences found"
	v1=$(dpkg-deb -f "${debs[0]}" Version)
	v2=$(dpkg-deb -f "${debs[1]}" Version)
	grep -q "^  $pkg $v1 -> $v2\$" "$tmp/deb.out"
	ok $? "the versions are named ($v1 -> $v2)"
	grep -q '^data.tar.xz!/usr/lib/x86_64-linux-gnu/libexpat.so.1.8.10 \[\|^data.tar.xz!/lib/' "$tmp/deb.out" ||
		grep -q '^data.tar.xz!/.*libexpat.*\[' "$tmp/deb.out"
	ok $? "the changed library inside data.tar.xz is named"
	grep -q 'section .text differs' "$tmp/deb.out"
	ok $? "ELF section-level comparison of the library"
	size=$(wc -c <"$tmp/deb.out")
	[ "$size" -lt 100000 ]
	ok $? "output bounded ($size bytes)"
	[ "$ms" -lt 10000 ]
	ok $? "done in seconds (${ms} ms)"
	mkdir -p "$tmp/t1" "$tmp/t2"
	cp "${debs[0]}" "$tmp/t1/pkg.deb"
	cp "${debs[1]}" "$tmp/t2/pkg.deb"
	tar --sort=name --mtime=@0 -C "$tmp/t1" -cf "$tmp/t1.tar" .
	tar --sort=name --mtime=@0 -C "$tmp/t2" -cf "$tmp/t2.tar" .
	run nested 1 "$tmp/t1.tar" "$tmp/t2.tar"
	grep -q '^pkg.deb!/data.tar.xz!/.*libexpat.*\[' "$tmp/nested.out"
	ok $? "a .deb inside a tar: recursed through tar, ar and xz"
	head -c 50000 "${debs[1]}" >"$tmp/t2/pkg.deb"
	tar --sort=name --mtime=@0 -C "$tmp/t2" -cf "$tmp/t3.tar" .
	run nested-trunc 2 "$tmp/t1.tar" "$tmp/t3.tar"
	grep -q 'pkg.deb' "$tmp/nested-trunc.err"
	ok $? "a truncated .deb inside a tar: exit 2, the member named"
else
	for t in deb versions files elf bounded seconds nested nested-trunc; do skip "$t" "no $pkg versions from apt"; done
fi

# Nothing written outside the output file.
before=$(find "$tmp" -newer "$tmp/m1.tar.gz" | wc -l)
"$bin" diff --html "$tmp/report.html" "$tmp/m1.tar.gz" "$tmp/m2.tar.gz" >/dev/null 2>&1
after=$(find "$tmp" -newer "$tmp/m1.tar.gz" | wc -l)
[ -s "$tmp/report.html" ] && [ $((after - before)) -le 1 ] && ! ls "$tmp"/report.html.tmp-* >/dev/null 2>&1
ok $? "--html writes its file and nothing else"

echo "1..$n"
[ "$failed" = 0 ]
