#!/bin/bash
# real-snapshot.sh - a data root holding a snapshot of the real Debian .debs of a package list's closure.
#
#   tests/lib/real-snapshot.sh DEBKEEP ROOT ARCH LIST.yaml NAME [SUITE]
#
# Resolves LIST.yaml with `DEBKEEP pkglist resolve` against the real Packages index (tests/lib/apt-data.sh,
# cached under /var/cache/debkeep-test or $DEBKEEP_TEST_CACHE), downloads exactly those name=version .debs
# with apt's own client in apt-data.sh's private configuration (apt checks every hash against the signed
# Release), caches them in CACHE/debs/ARCH/, then `init`, `import --into cip` and `snapshot create NAME
# --from-local cip` in ROOT. Prints ROOT. A ROOT that already has snapshot NAME is left as it is, so
# tests can share one; concurrent runs on the same ROOT wait for each other (flock on ROOT.lock).
set -euo pipefail

usage="usage: real-snapshot.sh DEBKEEP ROOT ARCH LIST.yaml NAME [SUITE]"
debkeep=$(realpath "${1:?$usage}")
root=${2:?$usage}
arch=${3:?$usage}
list=$(realpath "${4:?$usage}")
name=${5:?$usage}
suite=${6:-bookworm}
here=$(cd "$(dirname "$0")" && pwd)
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}

mkdir -p "$(dirname "$root")"
root=$(realpath -m "$root")
exec 9>"$root.lock"
flock 9

dk() { "$debkeep" --root "$root" "$@"; }

# init first even on a cached root: it brings the schema up to what this debkeep expects.
dk init >/dev/null
if dk snapshot show "$name" >/dev/null 2>&1; then
	echo "$root"
	exit 0
fi

packages=$("$here/apt-data.sh" "$cache" "$arch" "$suite")
# shellcheck source=apt-data.sh
. "$here/apt-data.sh"
apt_env "$cache" "$arch" "$suite"

debs=$cache/debs/$arch
mkdir -p "$debs"
wanted=$(mktemp)
trap 'rm -f "$wanted"' EXIT
"$debkeep" pkglist resolve "$list" --index "$packages" --arch "$arch" --format list > "$wanted"
[ -s "$wanted" ] || { echo "real-snapshot.sh: $list resolves to nothing for $arch" >&2; exit 2; }

# apt-get download names files NAME_VERSION_ARCH.deb with the epoch's ':' written as %3a.
files=()
missing=()
while read -r pkg ver parch; do
	f=$debs/${pkg}_${ver//:/%3a}_${parch}.deb
	files+=("$f")
	[ -s "$f" ] || missing+=("$pkg:$parch=$ver")
done < "$wanted"

if [ ${#missing[@]} -gt 0 ]; then
	# Downloaded into a fresh directory first, so an interrupted run never leaves a truncated .deb in the cache.
	part=$(mktemp -d "$debs/.partial.XXXXXX")
	(cd "$part" && apt-get -q download "${missing[@]}" >&2) || { rm -rf "$part"; exit 2; }
	mv -f "$part"/*.deb "$debs"/
	rmdir "$part"
fi
for f in "${files[@]}"; do
	[ -s "$f" ] || { echo "real-snapshot.sh: apt-get download left no $f" >&2; exit 2; }
done

dk import --into cip "${files[@]}" >/dev/null
dk snapshot create "$name" --from-local cip --description "real $suite $arch closure of $(basename "$list")" >/dev/null
echo "$root"
