#!/bin/bash
# mirror-world.sh - debkeep mirror against a signed upstream on 127.0.0.1, down to a real apt-get.
#
#   tests/integration/mirror/mirror-world.sh DEBKEEP
#
# The upstream: the publish fixtures' .debs (tests/fixtures/publish/make-debs.sh) plus a big and an
# unrelated package, published signed by a throwaway key into a separate data root and served by
# `debkeep serve`. Then, in another root: mirror create/update (everything, and a package list's
# closure), a second update that fetches no .deb, snapshot create --from-mirror, publish, and a real
# apt-get (private configuration, our key only) that updates and installs from the result. Bad
# upstreams (a tampered Packages index, a tampered .deb, another key, a missing architecture) are each
# a one-line error, exit 2, with the database and objects exactly as before. An update killed with
# SIGKILL while fetching a .deb from a slow server resumes (a Range request) and completes.
# Needs apt, dpkg-deb, gpg, python3, sqlite3, xz. Prints TAP.
set -uo pipefail

debkeep=$(realpath "${1:?usage: mirror-world.sh DEBKEEP}")
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../../fixtures/publish

# shellcheck source=../../lib/fixture.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/fixture.sh"

pids=()
on_exit() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
fixture_tmp
dk() { "$debkeep" --root "$root" "$@"; }

arch=$(dpkg --print-architecture)
other_arch=arm64
[ "$arch" != arm64 ] || other_arch=amd64

# The upstream world.
"$fixtures/make-debs.sh" "$tmp/debs" "$arch"
mkpkg() { # NAME SIZE-KB: a package with SIZE-KB of incompressible data
	local d=$tmp/build/$1
	mkdir -p "$d/DEBIAN" "$d/usr/share/$1"
	printf 'Package: %s\nVersion: 1.0-1\nArchitecture: %s\nMaintainer: t <t@debkeep.invalid>\n' "$1" "$arch" \
		> "$d/DEBIAN/control"
	printf 'Priority: optional\nSection: misc\nDescription: mirror test package %s\n' "$1" >> "$d/DEBIAN/control"
	head -c "$(($2 * 1024))" /dev/urandom > "$d/usr/share/$1/data"
	dpkg-deb --root-owner-group -Znone --build "$d" "$tmp/debs/$1.deb" > /dev/null
}
mkpkg dk-big 3072
mkpkg dk-extra 4
fpr=$(fixture_key "$tmp/gnupg" "$tmp/key.gpg")
other=$("$fixtures/make-key.sh" "$tmp/gnupg-other")
up() { # PREFIX GNUPGHOME KEY: publish the debs as upstream PREFIX
	"$debkeep" --root "$tmp/up" publish "$tmp/debs" --public "$tmp/world" --prefix "$1" --suite stable \
		--codename dkstable --sign "$3" --gnupghome "$2" --date 1700000000 > /dev/null
}
up good "$tmp/gnupg" "$fpr" && up other-key "$tmp/gnupg-other" "$other" && up bad-packages "$tmp/gnupg" "$fpr" &&
	up bad-deb "$tmp/gnupg" "$fpr"
ok $? "upstream trees published and signed"

# renamed: a signed Release for stable served as dists/testing (a suite mix-up, or a downgrade attempt).
cp -a "$tmp/world/good" "$tmp/world/renamed" && mv "$tmp/world/renamed/dists/stable" "$tmp/world/renamed/dists/testing"
# bad-packages: Packages.gz and .xz (and their by-hash names) no longer what Release says.
bp=$tmp/world/bad-packages/dists/stable/main/binary-$arch
xz -dc "$bp/Packages.xz" | sed 's/^Priority: optional/Priority: required/' > "$tmp/evil"
for z in gz xz; do
	if [ $z = gz ]; then gzip -n -c "$tmp/evil"; else xz -c "$tmp/evil"; fi > "$tmp/evil.$z"
	for f in "$bp/Packages.$z" "$bp/by-hash/SHA256/$(sha256sum < "$bp/Packages.$z" | cut -d' ' -f1)"; do
		rm -f "$f" && cp "$tmp/evil.$z" "$f"
	done
done
# bad-deb: one byte of a pool file changed, same size.
bd=$(find "$tmp/world/bad-deb/pool" -name 'dk-hello_*.deb')
cp --remove-destination "$bd" "$bd.tmp" && mv "$bd.tmp" "$bd"
printf 'X' | dd of="$bd" bs=1 seek=200 conv=notrunc status=none

# lying: a correctly signed index whose dk-hello stanza names dk-data's file (right size and hash for
# that file): only reading the .deb's control shows the lie.
cp -a "$tmp/world/good" "$tmp/world/lying"
python3 - "$tmp/world/lying/dists/stable" "$arch" << 'PY'
import gzip, hashlib, lzma, os, re, sys
d, arch = sys.argv[1], sys.argv[2]
idx = os.path.join(d, "main", "binary-" + arch)
stanzas = open(os.path.join(idx, "Packages")).read().strip("\n").split("\n\n")
field = lambda s, f: re.search("^" + f + ": (.*)$", s, re.M).group(1)
data = next(s for s in stanzas if field(s, "Package") == "dk-data")
out = []
for s in stanzas:
    if s is data:
        continue
    if field(s, "Package") == "dk-hello":
        for f in ("Filename", "Size", "MD5sum", "SHA256"):
            s = re.sub("^" + f + ": .*$", f + ": " + field(data, f), s, flags=re.M)
    out.append(s)
text = ("\n\n".join(out) + "\n").encode()
files = {"Packages": text, "Packages.gz": gzip.compress(text, mtime=0), "Packages.xz": lzma.compress(text)}
for name, body in files.items():
    open(os.path.join(idx, name), "wb").write(body)
algo, lines = None, []
for line in open(os.path.join(d, "Release")).read().splitlines():
    if not line.startswith(" "):
        algo = {"MD5Sum:": "md5", "SHA256:": "sha256"}.get(line)
    else:
        path = line.split()[-1]
        name = path.rsplit("/", 1)[-1]
        if algo and path == "main/binary-%s/%s" % (arch, name) and name in files:
            body = files[name]
            line = " %s %d %s" % (hashlib.new(algo, body).hexdigest(), len(body), path)
    lines.append(line)
rel = "\n".join(lines) + "\n"
open(os.path.join(d, "Release"), "w").write(rel)
PY
rm -f "$tmp/world/lying/dists/stable/InRelease" "$tmp/world/lying/dists/stable/Release.gpg"
GNUPGHOME=$tmp/gnupg gpg --batch --yes --local-user "$fpr" --clearsign -o "$tmp/world/lying/dists/stable/InRelease" \
	"$tmp/world/lying/dists/stable/Release" 2> /dev/null
fixture_serve "$debkeep" "$tmp/world"
ok $? "debkeep serve serves the upstream ($url)"

root=$tmp/root
dk init > /dev/null
dk mirror create up "$url/good" --suite stable --components main --archs "$arch" --keyring "$tmp/key.gpg" \
	> "$tmp/create.out" 2>&1
ok $? "mirror create"
[ -s "$root/keyrings/up.gpg" ] && cmp -s "$root/keyrings/up.gpg" "$tmp/key.gpg"
ok $? "the keyring is kept in the root"
dk mirror update up --json > "$tmp/update.json" 2> "$tmp/update.err"
ok $? "mirror update ($(tr -d '\n ' < "$tmp/update.err" | head -c 200))"
jq -e '.packages == 5 and .new == 5 and .debs_fetched == 5' "$tmp/update.json" > /dev/null
ok $? "five packages, all new, all fetched"
dk mirror update up --json > "$tmp/update2.json" 2>&1 && jq -e '.debs_fetched == 0 and .new == 0' "$tmp/update2.json" > /dev/null
ok $? "a second update fetches no .deb"
dk mirror list | grep -q "^up	$url/good	stable	5 packages	"
ok $? "mirror list"
dk mirror show up --json | jq -e '.packages == 5 and .release_date == "2023-11-14T22:13:20Z"' > /dev/null
ok $? "mirror show: count and the Release's date"
ctl=$(sqlite3 "$root/debkeep.db" "SELECT control FROM packages WHERE name = 'dk-hello'")
fn=$(sqlite3 "$root/debkeep.db" "SELECT filename FROM packages WHERE name = 'dk-hello'")
grep -q '^Priority: optional' <<< "$ctl" && ! grep -Eq '^(Filename|Size|MD5sum|SHA256):' <<< "$ctl" &&
	[ "$fn" = "pool/main/d/dk-hello/dk-hello_0.9-1_$arch.deb" ]
ok $? "rows keep the index stanza without Filename/Size/hashes, and the upstream Filename"
dk check > "$tmp/check.out" 2>&1
grep -q "objects" "$tmp/check.out" && ! grep -q "objects/" "$tmp/check.out"
ok $? "debkeep check finds no problem with the mirrored objects"

# With a package list: only the closure.
cat > "$tmp/list.yaml" <<EOF
release: stable
architectures: [$arch]
packages:
  - name: dk-hello
    reason: the test asks for it
EOF
dk mirror create small "$url/good" --suite stable --components main --archs "$arch" --keyring "$tmp/key.gpg" \
	--list "$tmp/list.yaml" > /dev/null && dk mirror update small --json > "$tmp/small.json" 2>&1 &&
	jq -e '.packages == 3 and .debs_fetched == 0' "$tmp/small.json" > /dev/null
ok $? "--list mirrors the closure only (3 packages), no .deb fetched twice"

# Snapshot, publish, a real apt-get.
dk snapshot create s1 --from-mirror up > /dev/null && dk publish s1 --prefix mine --suite stable --codename dkstable \
	--sign "$fpr" --gnupghome "$tmp/gnupg" > /dev/null
ok $? "snapshot create --from-mirror and publish"
a=$tmp/apt
apt_private "$a" "$tmp/key.gpg" "file://$root/public/mine" stable && apt_update "$a"
ok $? "apt-get update from the published mirror snapshot, no warnings"
apt_install "$a" "$tmp/scratch" dk-hello && grep -qx 'hello from debkeep' "$tmp/scratch/usr/share/dk-hello/hello.txt" &&
	grep -q '^Package: libdk1' "$tmp/scratch/var/lib/dpkg/status"
ok $? "apt-get install -y dk-hello (and its dependencies) into a scratch root"

# Bad upstreams: one line on stderr, exit 2, nothing changed.
state() { sqlite3 "$root/debkeep.db" .dump; find "$root/objects" -type f | sort; }
refused() { # NAME EXPECTED-MESSAGE-PATTERN -- CREATE-ARGS...
	local name=$1 pat=$2
	shift 3
	dk mirror create "$name" "$@" > /dev/null 2>&1
	state > "$tmp/before"
	dk mirror update "$name" > "$tmp/bad.out" 2> "$tmp/bad.err"
	local rc=$?
	state > "$tmp/after"
	[ "$rc" -eq 2 ] && [ "$(wc -l < "$tmp/bad.err")" -eq 1 ] && grep -Eq "$pat" "$tmp/bad.err" &&
		cmp -s "$tmp/before" "$tmp/after" && [ ! -s "$tmp/bad.out" ]
	ok $? "$name: refused, exit $rc, root unchanged: $(cat "$tmp/bad.err")"
}
refused bad-packages "Packages\.(gz|xz).*(SHA256|hash|size)" -- "$url/bad-packages" --suite stable --components main \
	--archs "$arch" --keyring "$tmp/key.gpg"
# A fresh root for the tampered .deb: the first one holds its object already and would not fetch it.
root=$tmp/root3
dk init > /dev/null
refused bad-deb "dk-hello_0.9-1_$arch.deb.*(SHA256|sha256|hash)" -- "$url/bad-deb" --suite stable --components main \
	--archs "$arch" --keyring "$tmp/key.gpg"
ls "$root/tmp/mirror-bad-deb/" 2>/dev/null | grep -q '^deb-'
ok $? "the verified downloads of a failed update stay in tmp/ for the next run"
root=$tmp/root4
dk init > /dev/null
refused lying "dk-data_1.0-1_all.deb: control says dk-data 1.0-1 all, its index stanza .* says dk-hello 0.9-1" -- \
	"$url/lying" --suite stable --components main --archs "$arch" --keyring "$tmp/key.gpg"
root=$tmp/root
refused other-key "InRelease: signature not trusted" -- "$url/other-key" --suite stable --components main \
	--archs "$arch" --keyring "$tmp/key.gpg"
refused no-arch "dists/stable: no architecture '$other_arch'" -- "$url/good" --suite stable --components main \
	--archs "$other_arch" --keyring "$tmp/key.gpg"
refused no-suite "dists/testing: no InRelease or Release upstream" -- "$url/good" --suite testing --components main \
	--archs "$arch" --keyring "$tmp/key.gpg"
refused renamed "dists/testing: is for suite 'stable' \(codename 'dkstable'\), not 'testing'" -- "$url/renamed" \
	--suite testing --components main --archs "$arch" --keyring "$tmp/key.gpg"
dk mirror show other-key --json | jq -e '.updated == null and .packages == 0' > /dev/null
ok $? "a refused update records nothing"

# Killed in the middle of a .deb, then resumed.
python3 "$here/slow-http.py" "$tmp/world" 800000 "$tmp/slow.log" > "$tmp/slow.port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/slow.port" ] && break; sleep 0.1; done
root=$tmp/root2
dk init > /dev/null
dk mirror create k "http://127.0.0.1:$(cat "$tmp/slow.port")/good" --suite stable --components main --archs "$arch" \
	--keyring "$tmp/key.gpg" > /dev/null
state > "$tmp/before"
"$debkeep" --root "$root" mirror update k --parallel 1 > /dev/null 2>&1 &
upd=$!
big=
for _ in $(seq 300); do
	big=$(find "$root/tmp/mirror-k" -name 'part-*' -size +300k 2>/dev/null | head -n1)
	[ -n "$big" ] && break
	sleep 0.05
done
kill -9 "$upd" 2>/dev/null
wait "$upd" 2>/dev/null
state > "$tmp/after"
[ -n "$big" ] && cmp -s "$tmp/before" "$tmp/after"
ok $? "update killed with SIGKILL during a .deb: root unchanged, partial download kept ($(stat -c %s "$big" 2>/dev/null) bytes)"
dk mirror update k --json > "$tmp/k.json" 2>&1 && jq -e '.packages == 5' "$tmp/k.json" > /dev/null
ok $? "the next update completes"
grep -q 'dk-big.* bytes=[1-9][0-9]*-' "$tmp/slow.log"
ok $? "...resuming the partial .deb with a Range request"
[ ! -e "$root/tmp/mirror-k" ]
ok $? "and leaves nothing in tmp/"
dk check > "$tmp/check2.out" 2>&1
! grep -q "objects/" "$tmp/check2.out"
ok $? "debkeep check: every object matches its row"

tap_end
