#!/bin/bash
# import.sh - import of local .debs: debkeep import beside `reprepro includedeb` and `aptly repo add`
# on the same files, then a snapshot of the imported set. Two inputs:
#   real: the required+important+standard closure of bookworm amd64 (~260 .debs), fetched once with
#         `apt-get download` through a private apt setup (tests/lib/apt-data.sh) into CACHE/debs-std/
#         (not CACHE/debs/, whose ARCH/ subdirectories tests/lib/real-snapshot.sh fills)
#   gen:  20,000 tiny generated .debs (ar + control.tar.gz + data.tar.gz written by a small Python
#         helper, not dpkg-deb, which would take minutes), cached in CACHE/gen-debs-20000/
# Each tool gets a fresh repository per run; prints the best wall time and its peak memory and the ratios.
# Needs reprepro and aptly (Debian packages) for the comparison; skips a tool that is not installed.
#
#   bench/import.sh [DEBKEEP] [RUNS]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
debkeep=${1:-$top/build/src/debkeep}
runs=${2:-3}
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

index=$("$top/tests/lib/apt-data.sh" "$cache" amd64 bookworm)
# shellcheck source=../tests/lib/apt-data.sh
source "$top/tests/lib/apt-data.sh"
apt_env "$cache" amd64 bookworm

debs=$cache/debs-std
if [ ! -e "$debs/.complete" ]; then
	printf 'release: bookworm\narchitectures: [amd64]\npriority: standard\npackages: []\n' >"$tmp/std.yaml"
	"$debkeep" pkglist resolve "$tmp/std.yaml" --index "$index" --format list >"$tmp/std.list"
	mkdir -p "$debs"
	(cd "$debs" && awk '{ print $1 "=" $2 }' "$tmp/std.list" | xargs apt-get download -q >/dev/null)
	touch "$debs/.complete"
fi

gen=$cache/gen-debs-20000
if [ ! -e "$gen/.complete" ]; then
	mkdir -p "$gen"
	python3 - "$gen" 20000 <<'PY'
import io, os, sys, tarfile, gzip
out, n = sys.argv[1], int(sys.argv[2])
def ar(members):
    b = [b"!<arch>\n"]
    for name, data in members:
        b.append(b"%-16s%-12d%-6d%-6d%-8s%-10d`\n" % (name.encode(), 1700000000, 0, 0, b"100644", len(data)))
        b.append(data + (b"\n" if len(data) % 2 else b""))
    return b"".join(b)
def tgz(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1700000000
            t.addfile(ti, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=1700000000)
for i in range(n):
    name = "gen%05d" % i
    ctl = ("Package: %s\nVersion: 1.%d-1\nArchitecture: amd64\nMaintainer: Bench <bench@example.org>\n"
           "Source: gensrc%03d\nDepends: libc6 (>= 2.36), gen%05d\nDescription: generated package %d\n"
           % (name, i % 97, i // 100, (i + 1) % n, i)).encode()
    data = tgz([("./usr/share/doc/%s/README" % name, b"%d\n" % i)])
    with open(os.path.join(out, "%s_1.%d-1_amd64.deb" % (name, i % 97)), "wb") as f:
        f.write(ar([("debian-binary", b"2.0\n"), ("control.tar.gz", tgz([("./control", ctl)])),
                    ("data.tar.gz", data)]))
PY
	touch "$gen/.complete"
fi

# best TOOL-SETUP TOOL-RUN: best wall time (s) and its peak RSS (KB) of run over $runs fresh setups
best() {
	local setup=$1 run=$2 best_t="" best_m="" t m
	for _ in $(seq "$runs"); do
		# The previous run's root is set aside, not removed, until the end: on ext4 without a journal
		# (this machine) new inodes skip those deleted in the last minutes one by one, which tripled
		# the system time of whichever tool ran just after a removal.
		[ ! -e "$tmp/r" ] || mv "$tmp/r" "$(mktemp -d "$tmp/old.XXXXXX")/"
		mkdir -p "$tmp/r"
		$setup
		sync
		/usr/bin/time -f '%e %M' -o "$tmp/time" bash -c "$run" >/dev/null 2>"$tmp/stderr" || {
			cat "$tmp/stderr" >&2
			return 1
		}
		read -r t m <"$tmp/time"
		if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN { exit !(a < b) }'; then
			best_t=$t best_m=$m
		fi
	done
	echo "$best_t $best_m"
}

dk_setup() { "$debkeep" --root "$tmp/r" init >/dev/null; }
rr_setup() {
	mkdir -p "$tmp/r/conf"
	printf 'Codename: bench\nArchitectures: amd64\nComponents: main\n' >"$tmp/r/conf/distributions"
}
ap_setup() {
	printf '{"rootDir": "%s/r/aptly", "architectures": ["amd64", "all"]}\n' "$tmp" >"$tmp/aptly.conf"
	aptly -config="$tmp/aptly.conf" repo create bench >/dev/null
}

row() { printf '%-40s %8.3f %10.1f\n' "$1" "$2" "$(echo "$3" | awk '{ print $1 / 1024 }')"; }

bench_set() {
	local label=$1 dir=$2 dk rr ap
	echo "== $label: $(find "$dir" -name '*.deb' | wc -l) .debs, $(du -sm "$dir" | cut -f1) MB"
	printf '%-40s %8s %10s\n' "" "time (s)" "peak (MB)"
	read -r dk_t dk_m < <(best dk_setup "'$debkeep' --root '$tmp/r' import '$dir'")
	row "debkeep import" "$dk_t" "$dk_m"
	/usr/bin/time -f '%e %M' -o "$tmp/time" "$debkeep" --root "$tmp/r" snapshot create bench --from-local >/dev/null
	read -r sn_t sn_m <"$tmp/time"
	row "debkeep snapshot create (after import)" "$sn_t" "$sn_m"
	rr_t="" ap_t=""
	if command -v reprepro >/dev/null; then
		# reprepro takes files, not directories (xargs keeps the list within limits) and wants a section
		read -r rr_t rr_m < <(best rr_setup "find '$dir' -name '*.deb' -print0 | xargs -0 reprepro -b '$tmp/r' -C main -S misc -P optional includedeb bench")
		row "reprepro includedeb" "$rr_t" "$rr_m"
	fi
	if command -v aptly >/dev/null; then
		read -r ap_t ap_m < <(best ap_setup "aptly -config='$tmp/aptly.conf' repo add bench '$dir'")
		row "aptly repo add" "$ap_t" "$ap_m"
	fi
	awk -v d="$dk_t" -v r="$rr_t" -v a="$ap_t" 'BEGIN {
		if (d < 0.001) d = 0.001
		if (r != "") printf "ratio: debkeep is %.1fx faster than reprepro\n", r / d
		if (a != "") printf "ratio: debkeep is %.1fx faster than aptly\n", a / d }'
}

bench_set "real (required+important+standard, bookworm amd64)" "$debs"
bench_set "generated" "$gen"
