#!/bin/bash
# swupdate.sh - the real check: Debian's swupdate accepts the bundles `debkeep swu create` makes (check
# mode, with the signature, hashes and hardware compatibility checked) and refuses them once a payload
# byte, sw-description or the signature is changed; `debkeep swu verify` gives the same verdict each time.
#
#   tests/integration/swupdate.sh [DEBKEEP]
#
# Installs nothing: needs swupdate, openssl and GNU cpio on the PATH (CI installs them), else skips.
# Prints TAP; exit 0 when every test passed.
set -uo pipefail

debkeep=${1:-${DEBKEEP:-}}
# shellcheck source=../lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

[ -x "$debkeep" ] || skip_all "no debkeep binary (argument 1 or DEBKEEP)"
debkeep=$(realpath "$debkeep")
for tool in swupdate openssl cpio; do
	command -v "$tool" >/dev/null || skip_all "no $tool"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
# swupdate puts its IPC sockets in $TMPDIR: a private one keeps runs apart.
mkdir run
export TMPDIR=$tmp/run

signer() { # signer NAME CN: a throwaway key and self-signed S/MIME certificate, as swupdate -k expects
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$2" -keyout "$1.key" -out "$1.pem" \
		-addext extendedKeyUsage=emailProtection -addext keyUsage=digitalSignature 2>/dev/null
}
if ! signer test "debkeep swupdate test" || ! signer other "someone else"; then
	skip_all "openssl cannot make a test certificate"
fi

head -c 3M /dev/urandom >rootfs.img
head -c 200K /dev/urandom >linux.efi
cat >desc.yaml <<'EOF'
product: debkeep-test
version: "1.0.0"
description: integration test bundle
hardware-compatibility:
  board: debkeep-board
  revisions: ["1.0", "1.1"]
rootfs:
  file: rootfs.img
  copy-1: /dev/sda4
  copy-2: /dev/sda5
kernel:
  file: linux.efi
  copy-1: /dev/sda2
  copy-2: /dev/sda3
bootenv:
  copy-1:
    kernelparams: root=/dev/sda4
  copy-2:
    kernelparams: root=/dev/sda5
EOF

hw="debkeep-board:1.0"

# swupdate_says BUNDLE [HW [COPY [CERT]]]: 0 if swupdate -c accepts the bundle, 1 if it refuses.
# swupdate 2022.12 sometimes exits 1 after "SWUPDATE successful" (its helper processes race at shutdown),
# so the verdict is read from what it logged: success and no ERROR line.
swupdate_says() {
	local b=$1 h=${2:-$hw} copy=${3:-copy-1} cert=${4:-test.pem}
	swupdate -c -i "$b" -k "$cert" -H "$h" -e "stable,$copy" >swupdate.log 2>&1
	if grep -q 'SWUPDATE successful' swupdate.log && ! grep -q '\[ERROR\]' swupdate.log; then
		return 0
	fi
	grep '\[ERROR\]' swupdate.log | head -n 2 | sed 's/^/# swupdate: /'
	return 1
}

# debkeep_says BUNDLE [HW [CERT]]: debkeep swu verify's exit status; its lines become TAP comments.
debkeep_says() {
	local b=$1 h=${2:-$hw} cert=${3:-test.pem} rc
	"$debkeep" swu verify "$b" --cert "$cert" --hw "$h" >verify.out 2>&1
	rc=$?
	sed 's/^/# debkeep: /' verify.out
	return $rc
}

expect() { # expect WANT GOT DESCRIPTION
	[ "$1" = "$2" ]
	ok $? "$3${2:+ (got $2)}"
}

# Rebuild a bundle from its extracted members with GNU cpio: checksums right, content as changed.
unpack() {
	rm -rf x && mkdir x && (cd x && cpio -i --quiet <"../$1")
}
repack() { # repack OUT MEMBER...
	local out=$1
	shift
	(cd x && printf '%s\n' "$@" | cpio -o -H crc --quiet) >"$out"
}
flip_byte() { # flip_byte FILE OFFSET
	local c
	c=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf '%b' "\\$(printf '%03o' $(((c ^ 1) & 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

"$debkeep" swu create desc.yaml -o good.swu --key test.key --cert test.pem >create.out 2>&1
ok $? "debkeep swu create: a signed A/B bundle"
sed 's/^/# /' create.out

swupdate_says good.swu "$hw" copy-1
ok $? "swupdate -c accepts it (copy-1)"
swupdate_says good.swu "$hw" copy-2
ok $? "swupdate -c accepts it (copy-2)"
swupdate_says good.swu debkeep-board:1.1 copy-2
ok $? "swupdate -c accepts it (revision 1.1)"
debkeep_says good.swu
expect 0 $? "debkeep swu verify accepts it"
cpio -i --only-verify-crc --quiet <good.swu >crc.out 2>&1 && ! grep -qi 'checksum error' crc.out
ok $? "GNU cpio checks every member's crc"

swupdate_says good.swu debkeep-board:2.0
expect 1 $? "swupdate refuses another hardware revision"
debkeep_says good.swu debkeep-board:2.0
expect 1 $? "debkeep refuses another hardware revision"
swupdate_says good.swu other-board:1.0
expect 1 $? "swupdate refuses another board"
debkeep_says good.swu other-board:1.0
expect 1 $? "debkeep refuses another board"
swupdate_says good.swu "$hw" copy-1 other.pem
expect 1 $? "swupdate refuses it with another certificate"
debkeep_says good.swu "$hw" other.pem
expect 1 $? "debkeep refuses it with another certificate"

# swupdate checks the signer's purpose (emailProtection by default): a code signing certificate is refused.
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=code signer" -keyout cs.key -out cs.pem \
	-addext extendedKeyUsage=codeSigning 2>/dev/null
"$debkeep" swu create desc.yaml -o codesign.swu --key cs.key --cert cs.pem >/dev/null 2>&1
swupdate_says codesign.swu "$hw" copy-1 cs.pem
expect 1 $? "swupdate refuses a signer without the emailProtection purpose"
debkeep_says codesign.swu "$hw" cs.pem
expect 1 $? "debkeep refuses a signer without the emailProtection purpose"

# A payload byte, in place: the cpio checksum and the sha256 are both wrong.
cp good.swu t-inplace.swu
off=$(grep -abo 'rootfs.img' t-inplace.swu | tail -n1 | cut -d: -f1)
flip_byte t-inplace.swu $((off + 100000))
swupdate_says t-inplace.swu
expect 1 $? "swupdate refuses a payload byte changed in place"
debkeep_says t-inplace.swu
expect 1 $? "debkeep refuses a payload byte changed in place"

# The same with the cpio checksum made right: only the signed sha256 can tell.
unpack good.swu
flip_byte x/rootfs.img 1000000
repack t-payload.swu sw-description sw-description.sig rootfs.img linux.efi
swupdate_says t-payload.swu
expect 1 $? "swupdate refuses a changed payload byte (cpio checksum fixed)"
debkeep_says t-payload.swu
expect 1 $? "debkeep refuses a changed payload byte (cpio checksum fixed)"
grep -q 'rootfs.img: sha256 mismatch' verify.out
ok $? "debkeep names the payload whose sha256 is wrong"

unpack good.swu
sed -i 's|/dev/sda4|/dev/sda6|' x/sw-description
repack t-desc.swu sw-description sw-description.sig rootfs.img linux.efi
swupdate_says t-desc.swu
expect 1 $? "swupdate refuses an edited sw-description"
debkeep_says t-desc.swu
expect 1 $? "debkeep refuses an edited sw-description"
grep -q 'sw-description.sig: the signature does not verify' verify.out
ok $? "debkeep says the signature does not verify"

unpack good.swu
flip_byte x/sw-description.sig 700
repack t-sig.swu sw-description sw-description.sig rootfs.img linux.efi
swupdate_says t-sig.swu
expect 1 $? "swupdate refuses a corrupted signature"
debkeep_says t-sig.swu
expect 1 $? "debkeep refuses a corrupted signature"

unpack good.swu
repack t-nosig.swu sw-description rootfs.img linux.efi
swupdate_says t-nosig.swu
expect 1 $? "swupdate refuses the bundle without its signature"
debkeep_says t-nosig.swu
expect 1 $? "debkeep refuses the bundle without its signature"

unpack good.swu
repack t-order.swu rootfs.img sw-description sw-description.sig linux.efi
swupdate_says t-order.swu
expect 1 $? "swupdate refuses a payload before sw-description"
debkeep_says t-order.swu
expect 1 $? "debkeep refuses a payload before sw-description"

# The established way, for the reader: sha256sum, openssl cms and GNU cpio make a bundle of the same files.
unpack good.swu
rsha=$(sha256sum x/rootfs.img | cut -d' ' -f1)
ksha=$(sha256sum x/linux.efi | cut -d' ' -f1)
awk -v r="$rsha" -v k="$ksha" '/filename = "rootfs.img"/ { f = r } /filename = "linux.efi"/ { f = k }
	/sha256 = / { sub(/"[0-9a-f]*"/, "\"" f "\"") } { print }' x/sw-description >x/sw.tmp && mv x/sw.tmp x/sw-description
(cd x && openssl cms -sign -in sw-description -out sw-description.sig -signer ../test.pem -inkey ../test.key \
	-outform DER -nosmimecap -binary)
repack gnu.swu sw-description sw-description.sig rootfs.img linux.efi
swupdate_says gnu.swu
ok $? "swupdate accepts the bundle made with openssl and GNU cpio"
debkeep_says gnu.swu
expect 0 $? "debkeep accepts the bundle made with openssl and GNU cpio"

SOURCE_DATE_EPOCH=1700000000 "$debkeep" swu create desc.yaml -o r1.swu >/dev/null &&
	SOURCE_DATE_EPOCH=1700000000 "$debkeep" swu create desc.yaml -o r2.swu >/dev/null && cmp -s r1.swu r2.swu
ok $? "unsigned bundles are reproducible (SOURCE_DATE_EPOCH)"

"$debkeep" swu create desc.yaml -o nokey.swu --key missing.key --cert test.pem >out 2>err
rc=$?
sed 's/^/# /' err
[ $rc -eq 2 ] && [ ! -e nokey.swu ] && ! compgen -G 'nokey.swu.tmp-*' >/dev/null
ok $? "a missing key: exit 2, nothing written"

mkdir big && cp desc.yaml linux.efi big/ && truncate -s 5G big/rootfs.img
"$debkeep" swu create big/desc.yaml -o big/big.swu >out 2>err
rc=$?
sed 's/^/# /' err
[ $rc -eq 2 ] && [ ! -e big/big.swu ] && ! compgen -G 'big/big.swu.tmp-*' >/dev/null && grep -q '32 bits' err
ok $? "a 5 GiB payload: exit 2 with the reason, nothing written"

tap_end
