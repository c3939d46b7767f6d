#!/bin/bash
# build.sh - root-mode `debkeep build` of the CIP Core example beside mmdebstrap --variant=custom with the
# same packages from the same snapshot, published (signed) by debkeep and served by `debkeep serve`:
# both write a .tar.zst. Then the install alone, into a directory: debkeep's install-driver (dk_image_install)
# beside mmdebstrap reading the published tree over copy:// (no HTTP at all), which is fairer to it.
# Needs root, mmdebstrap, gpg, zstd; the real .debs come through tests/lib/real-snapshot.sh (cached).
# Prints each wall time (and CPU time) and the ratios mmdebstrap/debkeep.
#
#   bench/build.sh [DEBKEEP] [INSTALL-DRIVER] [ARCH]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
debkeep=$(realpath "${1:-$top/build/src/debkeep}")
driver=${2:-$(dirname "$debkeep")/../tests/integration/image/install-driver}
arch=${3:-$(dpkg --print-architecture)}
list=$top/docs/examples/cip-core.yaml
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}
[ "$(id -u)" -eq 0 ] || { echo "build.sh: root mode needs root" >&2; exit 2; }
command -v mmdebstrap > /dev/null || { echo "build.sh: mmdebstrap is needed" >&2; exit 2; }

tmp=$(mktemp -d)
# apt verifies signatures as its sandbox user: the test key must be readable by it.
chmod 755 "$tmp"
server=
cleanup() {
	[ -z "$server" ] || kill "$server" 2>/dev/null
	[ ! -d "$tmp/gnupg" ] || gpgconf --homedir "$tmp/gnupg" --kill gpg-agent 2>/dev/null
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

root=$("$top/tests/lib/real-snapshot.sh" "$debkeep" "$cache/image-root-$arch" "$arch" "$list" cip)
fpr=$("$top/tests/fixtures/publish/make-key.sh" "$tmp/gnupg")
GNUPGHOME=$tmp/gnupg gpg --batch --export "$fpr" > "$tmp/key.gpg"
"$debkeep" --root "$root" publish cip --prefix dk --suite bookworm --codename bookworm --sign "$fpr" \
	--gnupghome "$tmp/gnupg" --public "$tmp/public" > /dev/null
"$debkeep" --root "$root" serve --listen 127.0.0.1:0 --public "$tmp/public" > "$tmp/serve.out" 2>&1 &
server=$!
for _ in $(seq 50); do grep -q http "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*/' "$tmp/serve.out")dk

# The exact set debkeep installs, for mmdebstrap's --include.
"$debkeep" --root "$root" build --snapshot cip --list "$list" --arch "$arch" --mode extract \
	-o "$tmp/extract.tar" --log /dev/null > /dev/null
include=$(awk '{ print $1 }' "$tmp/extract.tar.manifest" | paste -sd, -)
echo "CIP Core example, $arch: $(wc -l < "$tmp/extract.tar.manifest") packages"

# timed NAME CMD...: one run (each takes minutes); wall and CPU time (user+sys, children included)
timed() {
	local name=$1 t u s
	shift
	rm -rf "$tmp/out" && mkdir -p "$tmp/out"
	/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$@" > "$tmp/$name.log" 2>&1 ||
		{ tail -n 20 "$tmp/$name.log" >&2; return 1; }
	read -r t u s < <(tail -1 "$tmp/time")
	printf '%-26s %8s s wall %8.1f s cpu\n' "$name" "$t" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')"
	eval "wall_${name//[^a-z]/_}=$t"
}
mm=(mmdebstrap --mode=root --variant=custom --keyring="$tmp/key.gpg" --architectures="$arch")

timed debkeep-build "$debkeep" --root "$root" build --snapshot cip --list "$list" --arch "$arch" --mode root \
	-o "$tmp/out/image.tar.zst"
timed mmdebstrap-http "${mm[@]}" --include="$include" bookworm "$tmp/out/image.tar.zst" "$url"
if [ -x "$driver" ]; then
	timed debkeep-install-dir "$driver" "$root" cip "$arch" "$tmp/out/root"
	# The driver installs the whole snapshot (the list's closure as apt resolved it from the archive).
	all=$("$debkeep" --root "$root" snapshot show cip | awk '!/^#/ { print $1 }' | paste -sd, -)
	timed mmdebstrap-copy-dir "${mm[@]}" --include="$all" bookworm "$tmp/out/root" "copy://$tmp/public/dk"
fi

ratio() { awk -v a="$2" -v b="$3" -v n="$1" 'BEGIN { printf "ratio %-40s %.2fx\n", n, a / b }'; }
ratio "mmdebstrap (http) / debkeep build:" "$wall_mmdebstrap_http" "$wall_debkeep_build"
[ ! -x "$driver" ] ||
	ratio "install only, mmdebstrap / debkeep:" "$wall_mmdebstrap_copy_dir" "$wall_debkeep_install_dir"
