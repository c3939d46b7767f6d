#!/bin/bash
# swu.sh - a signed SWUpdate bundle around a large rootfs image (default 512 MiB of random bytes, made once
# in a temporary directory and removed after): `debkeep swu create` beside the established way, sha256sum
# + openssl cms + GNU cpio -H crc, on the same files. Prints wall time and peak memory (best of N) and
# the ratio.
#
#   bench/swu.sh [DEBKEEP] [MIB] [RUNS]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
debkeep=$(realpath "${1:-$top/build/src/debkeep}")
mib=${2:-512}
runs=${3:-3}
for tool in openssl cpio sha256sum /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench/swu.sh: needs $tool" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=bench" -keyout key.pem -out cert.pem \
	-addext extendedKeyUsage=emailProtection 2>/dev/null
head -c "${mib}M" /dev/urandom >rootfs.img
head -c 8M /dev/urandom >linux.efi
cat >desc.yaml <<'EOF'
product: bench
version: "1"
hardware-compatibility:
  board: bench-board
  revisions: ["1.0"]
rootfs:
  file: rootfs.img
  copy-1: /dev/sda4
  copy-2: /dev/sda5
kernel:
  file: linux.efi
  copy-1: /dev/sda2
  copy-2: /dev/sda3
EOF

# The established way: hash, write sw-description, sign it, archive in order.
cat >established.sh <<'EOF'
set -e
r=$(sha256sum rootfs.img | cut -d' ' -f1)
k=$(sha256sum linux.efi | cut -d' ' -f1)
cat >sw-description <<DESC
software = { version = "1"; bench-board = { hardware-compatibility = [ "1.0" ]; stable = {
  copy-1 = { images: ( { filename = "rootfs.img"; device = "/dev/sda4"; type = "raw"; sha256 = "$r"; },
                       { filename = "linux.efi"; device = "/dev/sda2"; type = "rawfile"; path = "linux.efi"; sha256 = "$k"; } ); };
  copy-2 = { images: ( { filename = "rootfs.img"; device = "/dev/sda5"; type = "raw"; sha256 = "$r"; },
                       { filename = "linux.efi"; device = "/dev/sda3"; type = "rawfile"; path = "linux.efi"; sha256 = "$k"; } ); };
}; }; };
DESC
openssl cms -sign -in sw-description -out sw-description.sig -signer cert.pem -inkey key.pem -outform DER -nosmimecap -binary
printf '%s\n' sw-description sw-description.sig rootfs.img linux.efi | cpio -o -H crc --quiet >established.swu
EOF

# best wall time (s) and its peak RSS (KB) over $runs runs of "$@", the page cache warm for both
best() {
	local best_t="" best_m="" t m
	for _ in $(seq "$runs"); do
		/usr/bin/time -f '%e %M' -o time.out "$@" >/dev/null 2>err.out || { cat err.out >&2; return 1; }
		read -r t m <time.out
		if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN { exit !(a < b) }'; then
			best_t=$t best_m=$m
		fi
	done
	echo "$best_t $best_m"
}

cat rootfs.img linux.efi >/dev/null
read -r dk_t dk_m < <(best "$debkeep" swu create desc.yaml -o debkeep.swu --key key.pem --cert cert.pem)
read -r es_t es_m < <(best bash established.sh)
"$debkeep" swu verify debkeep.swu --cert cert.pem --hw bench-board:1.0 >/dev/null
read -r dv_t dv_m < <(best "$debkeep" swu verify debkeep.swu --cert cert.pem --hw bench-board:1.0)
read -r cv_t cv_m < <(best cpio -i --only-verify-crc --quiet -F debkeep.swu)

echo "payloads: rootfs.img ${mib} MiB, linux.efi 8 MiB; bundle $(du -m debkeep.swu | cut -f1) MB"
printf '%-52s %8s %10s\n' "" "time (s)" "peak (MB)"
row() { printf '%-52s %8.3f %10.1f\n' "$1" "$2" "$(echo "$3" | awk '{ print $1 / 1024 }')"; }
row "debkeep swu create (signed)" "$dk_t" "$dk_m"
row "sha256sum + openssl cms + cpio -o -H crc" "$es_t" "$es_m"
row "debkeep swu verify (signature, sha256, crc)" "$dv_t" "$dv_m"
row "cpio -i --only-verify-crc (crc only)" "$cv_t" "$cv_m"
awk -v d="$dk_t" -v e="$es_t" -v v="$dv_t" -v c="$cv_t" 'BEGIN {
	if (d < 0.001) d = 0.001
	if (v < 0.001) v = 0.001
	printf "ratio: create %.2fx the speed of the established way; verify %.2fx the speed of cpio'"'"'s crc check\n", e / d, c / v }'
