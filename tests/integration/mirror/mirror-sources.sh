#!/bin/bash
# mirror-sources.sh - source packages through mirror, snapshot and publish, down to apt-get source.
#
#   tests/integration/mirror/mirror-sources.sh DEBKEEP
#
# The upstream: source packages built with dpkg-source -b (tests/fixtures/sources/make-sources.sh: a
# 3.0 (quilt) package in two revisions sharing one orig tarball, a 3.0 (native) one) and binaries built
# from them (a binNMU among them, and one whose source is not upstream), published signed with a
# Sources index made by apt-ftparchive and served by `debkeep serve`. Then: mirror --with-sources
# (everything, and a package list's closure), snapshot, publish signed, and a real apt-get source
# (private configuration, our key only) that fetches and hash-checks the files; dpkg-source -x unpacks
# them. A tampered Sources index and a tampered orig tarball upstream are each a one-line error, exit 2,
# with the database and objects exactly as before. Needs apt, dpkg-dev, gpg, python3, sqlite3, jq, xz.
set -uo pipefail

debkeep=$(realpath "${1:?usage: mirror-sources.sh DEBKEEP}")
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../../fixtures
tmp=$(mktemp -d)
cleanup() {
	for p in "${fixture_pids[@]}"; do kill "$p" 2>/dev/null; done
	for h in "$tmp"/gnupg*; do [ ! -d "$h" ] || gpgconf --homedir "$h" --kill gpg-agent 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
# KEEP=1 leaves the temporary directory (and its logs) for a look after a failure.
[ -z "${KEEP:-}" ] || trap - EXIT

# shellcheck source=../../lib/fixture.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/fixture.sh"
dk() { "$debkeep" --root "$root" "$@"; }

arch=$(dpkg --print-architecture)
fpr=$("$fixtures/publish/make-key.sh" "$tmp/gnupg")
GNUPGHOME=$tmp/gnupg gpg --batch --export "$fpr" > "$tmp/key.gpg"
GNUPGHOME=$tmp/gnupg "$fixtures/sources/make-sources.sh" "$tmp/fx" "$arch"
ok $? "source packages built with dpkg-source -b, binaries with dpkg-deb"

# relist DISTS FILE...: put FILEs (relative to DISTS) into Release's MD5Sum and SHA256 lists, then sign.
relist() {
	python3 - "$@" << 'PY'
import hashlib, os, sys
d, files = sys.argv[1], sys.argv[2:]
lines, out, algo = open(os.path.join(d, "Release")).read().splitlines(), [], None
def entries(algo):
    return [" %s %16d %s" % (hashlib.new(algo, open(os.path.join(d, f), "rb").read()).hexdigest(),
                             os.path.getsize(os.path.join(d, f)), f) for f in files]
for line in lines:
    if line.startswith(" ") and algo and line.split()[-1] in files:
        continue
    if not line.startswith(" ") and algo:
        out += entries(algo)
        algo = None
    out.append(line)
    if line in ("MD5Sum:", "SHA256:"):
        algo = {"MD5Sum:": "md5", "SHA256:": "sha256"}[line]
if algo:
    out += entries(algo)
open(os.path.join(d, "Release"), "w").write("\n".join(out) + "\n")
PY
	rm -f "$1/InRelease" "$1/Release.gpg"
	GNUPGHOME=$tmp/gnupg gpg --batch --yes --local-user "$fpr" --clearsign -o "$1/InRelease" "$1/Release" 2>/dev/null &&
		GNUPGHOME=$tmp/gnupg gpg --batch --yes --local-user "$fpr" -abs -o "$1/Release.gpg" "$1/Release" 2>/dev/null
}
up() { # PREFIX: the binaries published by debkeep, the sources added beside them as Debian lays them out
	local t=$tmp/world/$1
	"$debkeep" --root "$tmp/up" publish "$tmp/fx/debs" --public "$tmp/world" --prefix "$1" --suite stable \
		--codename dkstable --date 1700000000 > /dev/null || return 1
	mkdir -p "$t/pool/main/d/dk-src-hello" "$t/pool/main/d/dk-native" "$t/dists/stable/main/source"
	cp "$tmp/fx/src"/dk-src-hello_* "$t/pool/main/d/dk-src-hello/" && cp "$tmp/fx/src"/dk-native_* "$t/pool/main/d/dk-native/"
	(cd "$t" && apt-ftparchive sources pool/main > dists/stable/main/source/Sources 2>/dev/null) || return 1
	gzip -n -9 -k "$t/dists/stable/main/source/Sources" && xz -k "$t/dists/stable/main/source/Sources" &&
		relist "$t/dists/stable" main/source/Sources main/source/Sources.gz main/source/Sources.xz
}
up good && up bad-sources && up bad-orig
ok $? "upstream trees with Sources, signed"
[ "$(grep -c '^Package: ' "$tmp/world/good/dists/stable/main/source/Sources")" -eq 3 ]
ok $? "upstream Sources: three stanzas"
# bad-sources: Sources.gz and .xz no longer what Release says (a stanza's Directory changed).
bs=$tmp/world/bad-sources/dists/stable/main/source
sed 's|^Directory: pool/main/d/dk-native|Directory: pool/main/d/dk-src-hello|' "$bs/Sources" > "$tmp/evil"
gzip -n -c "$tmp/evil" > "$bs/Sources.gz" && xz -c "$tmp/evil" > "$bs/Sources.xz"
# bad-orig: one byte of the orig tarball changed, same size.
bo=$tmp/world/bad-orig/pool/main/d/dk-src-hello/dk-src-hello_1.0.orig.tar.gz
printf 'X' | dd of="$bo" bs=1 seek=100 conv=notrunc status=none

fixture_serve "$debkeep" "$tmp/world"
ok $? "debkeep serve serves the upstream ($url)"

root=$tmp/root
dk init > /dev/null
dk mirror create all "$url/good" --suite stable --components main --archs "$arch" --keyring "$tmp/key.gpg" \
	--with-sources > /dev/null && dk mirror update all --json > "$tmp/all.json" 2> "$tmp/all.err"
ok $? "mirror create --with-sources and update ($(tr -d '\n' < "$tmp/all.err" | head -c 200))"
jq -e '.packages == 5 and .sources.packages == 3 and .sources.new == 3 and .sources.files_fetched == 9 and
	.sources.missing == 0' "$tmp/all.json" > /dev/null
ok $? "every source upstream: 3 source packages, 9 distinct files (the shared orig fetched once)"
[ "$(sqlite3 "$root/debkeep.db" "SELECT count(*) FROM source_files")" -eq 12 ] &&
	[ "$(sqlite3 "$root/debkeep.db" "SELECT count(DISTINCT sha256) FROM source_files")" -eq 9 ]
ok $? "12 file rows, 9 objects: an orig tarball two versions share is one object"
for f in "$tmp/fx/src"/*; do
	h=$(sha256sum < "$f" | cut -d' ' -f1)
	[ -f "$root/objects/${h:0:2}/${h:2}" ] || { echo "# missing object for $f"; false; }
done
ok $? "every source file is stored as its object"
dk mirror update all --json > "$tmp/all2.json" 2>&1 && jq -e '.sources.files_fetched == 0 and .sources.new == 0 and
	.sources.packages == 3' "$tmp/all2.json" > /dev/null
ok $? "a second update fetches no source file"
dk mirror show all --json | jq -e '.sources == 3 and .with_sources' > /dev/null && dk mirror show all | grep -q '^sources: *3 '
ok $? "mirror show counts source packages"

# With a list: the sources of the closure (a binNMU's source version, a source two binaries share).
cat > "$tmp/list.yaml" <<EOF
release: stable
architectures: [$arch]
packages:
  - name: dk-hello-bin
    reason: built from dk-src-hello 1.0-2
  - name: dk-hello-doc
    reason: the same source
  - name: dk-native-utils
    reason: a binNMU of dk-native 2.0
  - name: dk-orphan
    reason: its source is not upstream
EOF
dk mirror create small "$url/good" --suite stable --components main --archs "$arch" --keyring "$tmp/key.gpg" \
	--list "$tmp/list.yaml" --with-sources > /dev/null && dk mirror update small --json > "$tmp/small.json" 2> "$tmp/small.err"
ok $? "mirror update --list with sources"
jq -e '.packages == 5 and .sources.packages == 2 and .sources.missing == 1 and .sources.files_fetched == 0' \
	"$tmp/small.json" > /dev/null
ok $? "the closure's sources: dk-src-hello 1.0-2 and dk-native 2.0; one missing; nothing fetched twice"
[ "$(wc -l < "$tmp/small.err")" -eq 1 ] && grep -q 'warning: source dk-gone 1.0 (of dk-orphan' "$tmp/small.err"
ok $? "a binary whose source is not upstream: one warning line ($(cat "$tmp/small.err"))"
[ "$(sqlite3 "$root/debkeep.db" "SELECT group_concat(s.name || '=' || s.version, ' ') FROM mirror_sources m
	JOIN sources s ON s.id = m.source_id WHERE m.mirror = 'small' ORDER BY s.name")" = "dk-native=2.0 dk-src-hello=1.0-2" ]
ok $? "...recorded as the mirror's sources"

dk check > "$tmp/check.out" 2>&1
[ $? -eq 0 ] && ! grep -q "objects/" "$tmp/check.out"
ok $? "debkeep check: source objects match their rows"

# Snapshot, publish, apt-get source.
dk snapshot create s1 --from-mirror all > /dev/null && dk snapshot show s1 --json | jq -e '.sources == 3' > /dev/null
ok $? "snapshot create --from-mirror copies the mirror's sources"
dk publish s1 --prefix mine --suite stable --codename dkstable --sign "$fpr" --gnupghome "$tmp/gnupg" > /dev/null
ok $? "publish a snapshot with sources, signed"
pub=$root/public/mine
grep -q ' main/source/Sources.xz$' "$pub/dists/stable/Release" && [ -f "$pub/dists/stable/main/source/Release" ] &&
	[ -f "$pub/pool/main/d/dk-src-hello/dk-src-hello_1.0.orig.tar.gz" ] &&
	[ -f "$pub/pool/main/d/dk-native/dk-native_2.0.dsc" ] &&
	[ "$(stat -c %h "$pub/pool/main/d/dk-native/dk-native_2.0.dsc")" -ge 2 ] &&
	h=$(sha256sum < "$pub/dists/stable/main/source/Sources.gz" | cut -d' ' -f1) &&
	[ -f "$pub/dists/stable/main/source/by-hash/SHA256/$h" ]
ok $? "dists/stable/main/source/ listed in Release, by-hash, pool files hard-linked"
sha_before=$(cat "$pub/dists/stable/Release" "$pub/dists/stable/main/source/Sources" | sha256sum)
dk publish s1 --prefix mine --suite stable --codename dkstable --sign "$fpr" --gnupghome "$tmp/gnupg" > /dev/null &&
	[ "$sha_before" = "$(cat "$pub/dists/stable/Release" "$pub/dists/stable/main/source/Sources" | sha256sum)" ]
ok $? "publishing again gives byte-identical Release and Sources"

a=$tmp/apt
apt_private "$a" "$tmp/key.gpg" "file://$pub" stable && mkdir -p "$tmp/get" &&
	echo "deb-src [signed-by=$tmp/key.gpg] file://$pub stable main" > "$a/etc/sources.list"
APT_CONFIG=$a/apt.conf apt-get update > "$a/update.log" 2>&1 && ! grep -Eqi '^(W|E):' "$a/update.log"
ok $? "apt-get update with a deb-src line, no warnings"
(cd "$tmp/get" && APT_CONFIG=$a/apt.conf apt-get source --download-only dk-src-hello=1.0-1 dk-native > "$a/source.log" 2>&1) &&
	! grep -Eqi '^(W|E):' "$a/source.log" && [ -f "$tmp/get/dk-src-hello_1.0.orig-extra.tar.gz" ] &&
	[ -f "$tmp/get/dk-src-hello_1.0.orig.tar.gz.asc" ] && [ -f "$tmp/get/dk-native_2.0.tar.xz" ]
ok $? "apt-get source --download-only fetches and hash-checks dk-src-hello 1.0-1 and dk-native"
(cd "$tmp/get" && dpkg-source -x dk-src-hello_1.0-1.dsc hello > "$a/x.log" 2>&1 && dpkg-source -x dk-native_2.0.dsc native >> "$a/x.log" 2>&1) &&
	grep -qx 'hello from the upstream source' "$tmp/get/hello/hello.txt" && [ -f "$tmp/get/hello/extra/extra.txt" ] &&
	grep -qx 'a native package' "$tmp/get/native/native.txt"
ok $? "dpkg-source -x unpacks both"

# check follows Sources into the pool as it follows Packages.
extra=$pub/pool/main/d/dk-src-hello/dk-src-hello_1.0.orig-extra.tar.gz
rm -f "$extra" && dk check > "$tmp/check-pool.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "public/mine/pool/main/d/dk-src-hello/dk-src-hello_1.0.orig-extra.tar.gz.*named by a Sources index, missing" "$tmp/check-pool.out"
ok $? "debkeep check finds a source file missing from the pool (exit $rc: $(grep -m1 orig-extra "$tmp/check-pool.out"))"
dk publish s1 --prefix mine --suite stable --codename dkstable --sign "$fpr" --gnupghome "$tmp/gnupg" > /dev/null &&
	dk check > "$tmp/check-pool.out" 2>&1 && [ -f "$extra" ]
ok $? "publishing again puts it back; check is clean"

# Derived snapshots, gc.
cat > "$tmp/one.yaml" <<EOF
release: stable
architectures: [$arch]
packages:
  - name: dk-native-utils
    reason: its source is dk-native 2.0
EOF
dk snapshot filter s2 --from s1 --list "$tmp/one.yaml" > /dev/null && dk snapshot show s2 --json | jq -e '.sources == 1' > /dev/null
ok $? "snapshot filter keeps the sources of the kept binaries only"
dk snapshot create s3 --from-mirror small > /dev/null && dk snapshot merge s4 s2 s3 > /dev/null &&
	dk snapshot show s4 --json | jq -e '.sources == 2' > /dev/null
ok $? "snapshot merge unions the sources"
dk mirror drop small > /dev/null && dk mirror drop all > /dev/null && dk snapshot drop s3 > /dev/null &&
	dk gc > "$tmp/gc.out" 2>&1 && [ "$(sqlite3 "$root/debkeep.db" "SELECT count(*) FROM sources")" -eq 3 ]
ok $? "gc keeps source rows snapshots use"
dk check > "$tmp/check3.out" 2>&1
[ $? -eq 0 ] && ! grep -q "objects/" "$tmp/check3.out"
ok $? "debkeep check is clean after gc"
h=$(sqlite3 "$root/debkeep.db" "SELECT sha256 FROM source_files WHERE name = 'dk-native_2.0.dsc'")
chmod u+w "$root/objects/${h:0:2}/${h:2}" &&
	printf 'X' | dd of="$root/objects/${h:0:2}/${h:2}" bs=1 seek=10 conv=notrunc status=none
dk check > "$tmp/check4.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "objects/${h:0:2}/${h:2}.*SHA-256 mismatch" "$tmp/check4.out"
ok $? "debkeep check finds a changed source object (exit $rc: $(grep -m1 "${h:2}" "$tmp/check4.out"))"

# gc removes the source rows and objects nothing refers to any more (an orig two rows share once).
root=$tmp/root-gc
dk init > /dev/null
dk mirror create all "$url/good" --suite stable --components main --archs "$arch" --keyring "$tmp/key.gpg" \
	--with-sources > /dev/null && dk mirror update all > /dev/null 2>&1 && dk mirror drop all > /dev/null &&
	objects=$(find "$root/objects" -type f | wc -l) && dk gc --dry-run --json > "$tmp/gc-dry.json" 2>&1 &&
	dk gc --json > "$tmp/gc.json" 2>&1 && [ "$(sqlite3 "$root/debkeep.db" "SELECT count(*) FROM sources")" -eq 0 ] &&
	[ "$(sqlite3 "$root/debkeep.db" "SELECT count(*) FROM source_files")" -eq 0 ] &&
	[ -z "$(find "$root/objects" -type f)" ]
ok $? "gc after mirror drop: no source row, file row or object left ($(tr -d '\n ' < "$tmp/gc.json" | head -c 200))"
python3 - "$tmp/gc-dry.json" "$tmp/gc.json" "$objects" <<'PY'
import json, sys
dry, real = (json.load(open(f)) for f in sys.argv[1:3])
assert dry["dry_run"] and not real["dry_run"], (dry, real)
assert real["source_rows"] == 3 and real["objects"] == int(sys.argv[3]), real
for k in ("package_rows", "source_rows", "objects", "bytes"):
    assert dry[k] == real[k], (k, dry[k], real[k])
PY
ok $? "gc --dry-run foretold exactly what gc deleted: source rows counted apart, shared orig once ($(tr -d '\n ' < "$tmp/gc-dry.json" | head -c 200))"

# Bad upstreams: one line on stderr, exit 2, nothing changed.
state() { sqlite3 "$root/debkeep.db" .dump; find "$root/objects" -type f | sort; }
refused() { # NAME EXPECTED-MESSAGE-PATTERN
	dk mirror create "$1" "$url/$1" --suite stable --components main --archs "$arch" --keyring "$tmp/key.gpg" \
		--with-sources > /dev/null 2>&1
	state > "$tmp/before"
	dk mirror update "$1" > "$tmp/bad.out" 2> "$tmp/bad.err"
	local rc=$?
	state > "$tmp/after"
	[ "$rc" -eq 2 ] && [ "$(wc -l < "$tmp/bad.err")" -eq 1 ] && grep -Eq "$2" "$tmp/bad.err" &&
		cmp -s "$tmp/before" "$tmp/after" && [ ! -s "$tmp/bad.out" ]
	ok $? "$1: refused, exit $rc, root unchanged: $(cat "$tmp/bad.err")"
}
root=$tmp/root-bad
dk init > /dev/null
refused bad-sources "Sources\.(gz|xz).*(SHA256|hash|size)"
refused bad-orig "source dk-src-hello 1\.0-[12]: dk-src-hello_1\.0\.orig\.tar\.gz: .*(SHA256|sha256|hash)"

tap_end
