#!/bin/bash
# build-extract.sh - `debkeep build --mode extract` of the CIP Core example beside `mmdebstrap --variant=extract`
# with the same packages (debkeep's manifest) from the same snapshot, published by debkeep and served over HTTP
# by `debkeep serve` (and over copy://, no HTTP at all). Both write a plain tar (compression is not what is
# measured). The real .debs come through tests/lib/real-snapshot.sh (cached). Runs debkeep RUNS times (3) and
# each mmdebstrap once; prints the load average, wall and CPU times (debkeep: each run and the best), the
# ratios mmdebstrap/debkeep against debkeep's best, and how the two trees compare.
#
# Every run writes into a directory of its own that stays until the end, and each tool's temporary tree
# goes below a directory with ext4's top-directory flag (chattr +T; ignored elsewhere): on ext4 without a
# journal (this machine) a new inode is not given a number freed in the last minute, and the allocator
# steps over each such number on every create (perf: find_inode_bit -> recently_deleted). A tree of ten
# thousand files removed right before a timed run placed beside it tripled that run's system time. debkeep's
# build spreads its own staging root the same way (lib/image/build.c); the flag gives mmdebstrap's
# temporary directory the same chance.
#
#   bench/build-extract.sh [DEBKEEP] [ARCH]     (RUNS=N in the environment: debkeep runs)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
debkeep=$(realpath "${1:-$top/build/src/debkeep}")
arch=${2:-$(dpkg --print-architecture)}
list=$top/docs/examples/cip-core.yaml
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}
runs=${RUNS:-3}
command -v mmdebstrap >/dev/null || { echo "build-extract.sh: mmdebstrap is needed" >&2; exit 2; }

tmp=$(mktemp -d)
mkdir "$tmp/spread"
chattr +T "$tmp/spread" 2>/dev/null || true
server=
cleanup() {
	[ -z "$server" ] || kill "$server" 2>/dev/null
	# The cached data root must not keep a record of a publication under $tmp.
	[ -z "${root:-}" ] || "$debkeep" --root "$root" publish drop --suite bookworm --prefix dk --public "$tmp/public" \
		>/dev/null 2>&1
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

root=$("$top/tests/lib/real-snapshot.sh" "$debkeep" "$cache/build-root-$arch" "$arch" "$list" cip)
"$debkeep" --root "$root" publish cip --prefix dk --suite bookworm --codename bookworm --public "$tmp/public" >/dev/null
"$debkeep" --root "$root" serve --listen 127.0.0.1:0 --public "$tmp/public" >"$tmp/serve.out" 2>&1 &
server=$!
for _ in $(seq 50); do grep -q http "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*/' "$tmp/serve.out")dk

# timed NAME CMD...: wall, user and system seconds into $tmp/NAME.time; TMPDIR a fresh directory below the
# spread one, left for the end
timed() {
	local name=$1
	shift
	TMPDIR=$(mktemp -d "$tmp/spread/XXXXXXXX") /usr/bin/time -f '%e %U %S' -o "$tmp/$name.time" "$@" \
		>"$tmp/$name.out" 2>&1 || { cat "$tmp/$name.out" >&2; exit 3; }
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %8s %8s %8s   %s\n' "" wall user sys "load average (1, 5, 15 min) after"
best=
for i in $(seq "$runs"); do
	mkdir "$tmp/dk-$i"
	timed "debkeep-$i" "$debkeep" --root "$root" build --snapshot cip --list "$list" --arch "$arch" \
		-o "$tmp/dk-$i/dk.tar" --mode extract --tmpdir "$tmp/spread"
	read -r w u s <"$tmp/debkeep-$i.time"
	printf '%-22s %8s %8s %8s   %s\n' "debkeep build, run $i" "$w" "$u" "$s" "$(cut -d' ' -f1-3 /proc/loadavg)"
	if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN { exit !(a < b) }'; then
		best=$w
		cp "$tmp/debkeep-$i.time" "$tmp/debkeep.time"
		ln -sfn "dk-$i" "$tmp/dk"
	fi
done
pkgs=$(cut -d' ' -f1 "$tmp/dk/dk.tar.manifest" | paste -sd,)
timed mmdebstrap-http mmdebstrap --quiet --variant=extract --architectures="$arch" --include="$pkgs" \
	bookworm "$tmp/mm-http.tar" "deb [trusted=yes] $url bookworm main"
timed mmdebstrap-copy mmdebstrap --quiet --variant=extract --architectures="$arch" --include="$pkgs" \
	bookworm "$tmp/mm-copy.tar" "deb [trusted=yes] copy://$tmp/public/dk bookworm main"

read -r dw du ds <"$tmp/debkeep.time"
echo "packages: $(wc -l <"$tmp/dk/dk.tar.manifest") ($arch), image $(stat -c %s "$tmp/dk/dk.tar") bytes"
printf '%-22s %8s %8s %8s\n' "" wall user sys
printf '%-22s %8s %8s %8s\n' "debkeep build (best)" "$dw" "$du" "$ds"
for m in mmdebstrap-http mmdebstrap-copy; do
	read -r w u s <"$tmp/$m.time"
	printf '%-22s %8s %8s %8s   wall ratio %s, cpu ratio %s\n' "$m" "$w" "$u" "$s" \
		"$(echo "scale=2; $w / $dw" | bc)" "$(echo "scale=2; ($u + $s) / ($du + $ds)" | bc)"
done

# The same files? Entries only one side has, and entries both have that differ (type, mode, owner, content).
python3 - "$tmp/mm-http.tar" "$tmp/dk/dk.tar" <<'EOF'
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
both = set(mm) & set(dk)
differ = sorted(n for n in both if mm[n] != dk[n])
only_mm = sorted(set(mm) - set(dk))
only_dk = sorted(set(dk) - set(mm))
print(f"trees: {len(both)} entries in both, {len(differ)} of them differ: {', '.join(differ)}")
print(f"only mmdebstrap ({len(only_mm)}): {', '.join(only_mm)}")
info = sum(1 for n in only_dk if n.startswith("var/lib/dpkg/info/"))
print(f"only debkeep ({len(only_dk)}): {info} dpkg info files, {', '.join(n for n in only_dk if not n.startswith('var/lib/dpkg/info/'))}")
EOF
