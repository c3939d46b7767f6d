#!/bin/bash
# build-real.sh - debkeep build --mode extract of docs/examples/cip-core.yaml from the real bookworm .debs, as TAP:
# two builds (other TMPDIR and --tmpdir, umask 022 and 077, a second apart) give byte-identical images,
# manifests and SBOMs; dpkg reads every package as unpacked and verifies every file against its md5sums; the
# tree equals what
# `mmdebstrap --variant=extract` extracts for the same packages from the same snapshot, published by debkeep.
#
#   build-real.sh DEBKEEP SOURCE_ROOT [ARCH]
set -u
debkeep=$(realpath "$1")
src=$2
arch=${3:-$(dpkg --print-architecture)}
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}
list=$src/docs/examples/cip-core.yaml
tmp=$(mktemp -d "${TMPDIR:-/tmp}/debkeep-build-real.XXXXXX")
cleanup() {
	# The cached data root must not keep a record of a publication under $tmp.
	[ -z "${root:-}" ] || "$debkeep" --root "$root" publish drop --suite bookworm --prefix dk --public "$tmp/public" \
		> /dev/null 2>&1
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n # skip $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
diag() { sed 's/^/# /'; }

if ! root=$("$src/tests/lib/real-snapshot.sh" "$debkeep" "$cache/build-root-$arch" "$arch" "$list" cip 2>"$tmp/err"); then
	diag <"$tmp/err"
	echo "1..0 # skip no real snapshot (apt data unavailable)"
	exit 0
fi
dk() { "$debkeep" --root "$root" "$@"; }

mkdir -p "$tmp/a" "$tmp/b" "$tmp/ta" "$tmp/tb"
start=$(date +%s.%N)
(umask 022 && TMPDIR=$tmp/ta dk build --snapshot cip --list "$list" --arch "$arch" -o "$tmp/a/cip.tar.zst" \
	--mode extract --log "$tmp/a/log") >"$tmp/a/out" 2>&1
rc=$?
end=$(date +%s.%N)
check "extract build of the CIP example succeeds" test $rc -eq 0
diag <"$tmp/a/out"
echo "# extract build: $(echo "$end - $start" | bc) s wall (target < 5 s on an idle machine)"
sleep 1
(umask 077 && TMPDIR=$tmp/tb dk build --snapshot cip --list "$list" --arch "$arch" -o "$tmp/b/cip.tar.zst" \
	--mode extract --tmpdir "$tmp/tb" --log "$tmp/b/log") >"$tmp/b/out" 2>&1
check "second build succeeds" test $? -eq 0
for f in cip.tar.zst cip.tar.zst.manifest cip.tar.zst.cdx.json cip.tar.zst.spdx.json; do
	if cmp -s "$tmp/a/$f" "$tmp/b/$f"; then
		ok "$f is byte-identical"
	else
		not_ok "$f is byte-identical"
		"$debkeep" diff "$tmp/a/$f" "$tmp/b/$f" 2>&1 | head -40 | diag
	fi
done
check "the build log is the same" cmp -s <(grep -v '^staging root' "$tmp/a/log") <(grep -v '^staging root' "$tmp/b/log")

# Interrupted: the build stops at its next step and leaves no staging and no output.
# (debkeep itself in the background, not the dk function: a subshell would take the signal.)
"$debkeep" --root "$root" build --snapshot cip --list "$list" --arch "$arch" -o "$tmp/c.tar" --mode extract \
	>"$tmp/int.out" 2>&1 &
pid=$!
sleep 2
kill -INT $pid
wait $pid
rc=$?
check "SIGINT: the build stops (exit $rc) with 'build interrupted'" eval 'test $rc -ne 0 && grep -q "build interrupted" "$tmp/int.out"'
check "SIGINT: no image and no staging left" eval 'test ! -e "$tmp/c.tar" && test -z "$(ls -A "$root/tmp")"'

zstd -qdc "$tmp/a/cip.tar.zst" >"$tmp/dk.tar"
mkdir -p "$tmp/x"
tar -xf "$tmp/dk.tar" -C "$tmp/x"
count=$(wc -l <"$tmp/a/cip.tar.zst.manifest")
check "dpkg-query: all $count packages unpacked" \
	test "$(dpkg-query --admindir="$tmp/x/var/lib/dpkg" -W -f '${db:Status-Abbrev}\n' | grep -c '^iU')" -eq "$count"
check "dpkg --audit names every package as unpacked, nothing else" \
	test "$(dpkg --admindir="$tmp/x/var/lib/dpkg" --audit | grep -c '^ [a-z0-9]')" -eq "$count"
check "dpkg --verify: every unpacked file matches its package's md5sums" test -z "$(dpkg --root="$tmp/x" --verify 2>&1)"
rm -rf --one-file-system "$tmp/x"

if ! command -v mmdebstrap >/dev/null; then
	skip "mmdebstrap is not installed"
else
	dk publish cip --prefix dk --suite bookworm --codename bookworm --public "$tmp/public" >/dev/null
	pkgs=$(cut -d' ' -f1 "$tmp/a/cip.tar.zst.manifest" | paste -sd,)
	if mmdebstrap --quiet --variant=extract --architectures="$arch" --include="$pkgs" bookworm "$tmp/mm.tar" \
		"deb [trusted=yes] copy://$tmp/public/dk bookworm main" >"$tmp/mm.out" 2>&1; then
		python3 - "$tmp/mm.tar" "$tmp/dk.tar" >"$tmp/cmp.out" <<'EOF'
import hashlib, sys, tarfile

def load(path):
    entries = {}
    with tarfile.open(path) as t:
        for m in t:
            name = (m.name[2:] if m.name.startswith("./") else m.name).rstrip("/")
            data = hashlib.sha256(t.extractfile(m).read()).hexdigest() if m.isreg() else m.linkname
            entries[name] = (m.type, m.mode, m.uid, m.gid, data)
    return entries

mm, dk = load(sys.argv[1]), load(sys.argv[2])
# What each side adds on purpose (docs/images.md): mmdebstrap's /dev, host files and apt state; debkeep's dpkg
# database of unpacked packages.
mm_only_ok = ("dev/", "etc/apt/sources.list", "etc/fstab", "etc/hostname", "etc/resolv.conf",
              "var/cache/apt/archives/lock", "var/lib/apt/lists/lock")
differ_ok = {"var/lib/dpkg/status", "var/lib/apt/lists/partial", "var/cache/apt/archives/partial"}
bad = [n for n in sorted(set(mm) & set(dk)) if mm[n] != dk[n] and n not in differ_ok]
bad += ["only mmdebstrap: " + n for n in sorted(set(mm) - set(dk)) if not n.startswith(mm_only_ok)]
bad += ["only debkeep: " + n for n in sorted(set(dk) - set(mm))
        if not n.startswith("var/lib/dpkg/info/") and n != "var/lib/dpkg/available"]
print(f"{len(set(mm) & set(dk))} entries in both")
for b in bad[:50]:
    print(b)
sys.exit(1 if bad else 0)
EOF
		check "the tree equals mmdebstrap --variant=extract's (but for the documented differences)" test $? -eq 0
		diag <"$tmp/cmp.out"
	else
		not_ok "mmdebstrap --variant=extract from the published snapshot"
		diag <"$tmp/mm.out"
	fi
fi

echo "1..$n"
[ $failed -eq 0 ]
