#!/bin/bash
# efibootguard.sh - debkeep ebg env against Debian's efibootguard tools, as TAP:
#   tests/integration/efibootguard.sh DEBKEEP
# Files debkeep writes must read back the same through bg_printenv -f, files bg_setenv -f writes must
# read the same through debkeep, and the same settings must give the same bytes from both. A corrupt or
# truncated file must be refused by both, and a refused file must never be replaced.
set -u

dk=${1:?usage: efibootguard.sh DEBKEEP}
case $dk in /*) ;; *) dk=$PWD/$dk ;; esac
fixtures=$(cd "$(dirname "$0")/../fixtures/ebg" && pwd)
if ! command -v bg_setenv >/dev/null || ! command -v bg_printenv >/dev/null; then
	echo "1..0 # SKIP efibootguard (bg_setenv, bg_printenv) is not installed"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/debkeep-ebg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# shellcheck source=../lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

# debkeep's listing in bg_printenv -r's form and order, so the two compare line for line.
dk_raw() {
	"$dk" ebg env read "$1" >listing || return 1
	sed -n 's/^in_progress: *yes$/IN_PROGRESS=1/p; s/^in_progress: *no$/IN_PROGRESS=0/p' listing
	sed -n 's/^revision: *\(.*\)$/REVISION=\1/p' listing
	sed -n 's/^kernel: \{11\}\(.*\)$/KERNEL=\1/p' listing
	sed -n 's/^kernelargs: \{7\}\(.*\)$/KERNELARGS=\1/p' listing
	sed -n 's/^watchdog timeout: \([0-9]*\) seconds$/WATCHDOG_TIMEOUT=\1/p' listing
	sed -n 's/^ustate: *\([0-9]*\) .*$/USTATE=\1/p' listing
	sed -n '/^user variables:$/,$ { /^  /{ s/^  \([^ ]*\) = \(.*\)$/\1=\2/; s/  ([a-z0-9]*)$//; p } }' listing
}

bg_raw() {
	bg_printenv -f "$1" -r
}

# same_reading FILE [SKIP]: debkeep and bg_printenv read FILE the same (except lines matching SKIP).
same_reading() {
	local a b skip=${2:-^$}
	a=$(dk_raw "$1" 2>>diag | grep -v -- "$skip")
	b=$(bg_raw "$1" 2>>diag | grep -v -- "$skip")
	[ -n "$b" ] && [ "$a" = "$b" ] || { diff -u <(echo "$b") <(echo "$a") | sed '1,2d' >>diag; return 1; }
}

: >diag

# 1. debkeep writes, bg_printenv reads.
"$dk" ebg env write a.dat --kernel C:BOOT1:linux.efi --args "console=ttyS0,115200 root=/dev/sda5 quiet" \
	--revision 7 --ustate installed --in-progress 1 --watchdog 45 --uservar swupdate_rev=2026.11 \
	--uservar "note=a value with = and spaces" 2>>diag
ok $? "debkeep writes a new environment"
want='IN_PROGRESS=1
REVISION=7
KERNEL=C:BOOT1:linux.efi
KERNELARGS=console=ttyS0,115200 root=/dev/sda5 quiet
WATCHDOG_TIMEOUT=45
USTATE=1
swupdate_rev=2026.11
note=a value with = and spaces'
got=$(bg_raw a.dat 2>>diag)
[ "$got" = "$want" ] || diff -u <(echo "$want") <(echo "$got") >>diag
ok $? "bg_printenv -f reads every field debkeep wrote"

# 2. Read-modify-write keeps what was not named.
"$dk" ebg env write a.dat --ustate testing --uservar note= --uservar board=qemu 2>>diag
ok $? "debkeep changes the file in place"
want=$(echo "$want" | sed 's/^USTATE=1/USTATE=2/; /^note=/d')$'\nboard=qemu'
got=$(bg_raw a.dat 2>>diag)
[ "$got" = "$want" ] || diff -u <(echo "$want") <(echo "$got") >>diag
ok $? "bg_printenv sees the change and everything else as it was"

# 3. The same settings give the same bytes. (bg_setenv -x cuts a value at a second '=', so none here.)
bg_setenv -f b.dat --kernel=C:BOOT1:linux.efi "--args=console=ttyS0,115200 root=/dev/sda5 quiet" -r 7 \
	-s INSTALLED -i 1 -w 45 -x swupdate_rev=2026.11 -x "note=a value with spaces" >/dev/null 2>>diag
"$dk" ebg env write c.dat --kernel C:BOOT1:linux.efi --args "console=ttyS0,115200 root=/dev/sda5 quiet" \
	--revision 7 --ustate installed --in-progress 1 --watchdog 45 --uservar swupdate_rev=2026.11 \
	--uservar "note=a value with spaces" 2>>diag
cmp b.dat c.dat >>diag 2>&1
ok $? "debkeep and bg_setenv write the same bytes for the same settings"

# 4. bg_setenv writes, debkeep reads: an empty environment, every field, changes with -P, confirm, deletion.
bg_setenv -f e.dat >/dev/null 2>>diag
same_reading e.dat
ok $? "an environment bg_setenv made with no options reads the same"
same_reading b.dat
ok $? "every field bg_setenv set reads the same"
bg_setenv -f b.dat -P -s TESTING -i 0 -x note= -x extra=1 >/dev/null 2>>diag
same_reading b.dat
ok $? "after bg_setenv -P: a changed state, a deleted and an added variable"
bg_setenv -f b.dat -P -c >/dev/null 2>>diag
same_reading b.dat && [ "$(dk_raw b.dat | grep USTATE)" = USTATE=0 ]
ok $? "after bg_setenv -c (confirm): ustate OK"
bg_setenv -f d.dat -k "C:BOOT0:k$(printf '\303\274')rnel" -x "k$(printf '\303\274')=v$(printf '\342\202\254')" \
	>/dev/null 2>>diag
same_reading d.dat
ok $? "bytes bg_setenv sign-extended into UTF-16 read back as bg_printenv shows them"
same_reading "$fixtures/setenv.dat" && same_reading "$fixtures/typed.dat" '^blob'
ok $? "the checked-in fixtures read the same (typed.dat: numbers, bool, char, string)"

# 5. Limits: the longest strings, many variables.
long=$(head -c 254 /dev/zero | tr '\0' k)
"$dk" ebg env write l.dat --kernel "$long" --args "$long" 2>>diag && same_reading l.dat
ok $? "254-character kernel and arguments"
"$dk" ebg env write l.dat --kernel "${long}k" 2>>diag
[ $? = 2 ] && same_reading l.dat
ok $? "255 characters are refused and the file is kept"
args=()
for i in $(seq 1 400); do
	args+=(--uservar "var$i=value number $i")
done
"$dk" ebg env write m.dat "${args[@]}" 2>>diag && same_reading m.dat && [ "$(bg_raw m.dat | wc -l)" = 406 ]
ok $? "400 user variables"

# 6. Random settings, both ways: same bytes, same reading. bg_setenv cannot set ustate 4 (UNKNOWN) and
# cuts user variable values at a second '=': the random values keep within what it can do.
RANDOM=42
rstr() {
	local chars='abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 /.,:_-+@%'"${2:-}"
	local s='' len=$((RANDOM % $1)) i
	for ((i = 0; i < len; i++)); do
		s+=${chars:RANDOM % ${#chars}:1}
	done
	printf 'x%s' "$s"
}
bad=0
for round in $(seq 1 25); do
	k=$(rstr 200 '=') a=$(rstr 250 "=\"'\$") r=$((RANDOM * 32768 + RANDOM)) w=$((RANDOM % 65536))
	s=$((RANDOM % 4)) i=$((RANDOM % 2)) v1=$(rstr 40) v2=$(rstr 400 "\"'")
	rm -f r1.dat r2.dat
	bg_setenv -f r1.dat "--kernel=$k" "--args=$a" -r "$r" -w "$w" -s "$s" -i "$i" -x "key1=$v1" -x "key2=$v2" \
		>/dev/null 2>>diag
	"$dk" ebg env write r2.dat --kernel "$k" --args "$a" --revision "$r" --watchdog "$w" --ustate "$s" \
		--in-progress "$i" --uservar "key1=$v1" --uservar "key2=$v2" 2>>diag
	if ! cmp -s r1.dat r2.dat || ! same_reading r1.dat; then
		echo "round $round: kernel '$k' revision $r" >>diag
		bad=1
	fi
done
ok $bad "25 random environments: same bytes from both tools, same reading"

# 7. Bad input: both tools refuse it, debkeep says why, with exit status 2, and writes nothing.
cp a.dat x.dat
printf '\001' | dd of=x.dat bs=1 seek=700 conv=notrunc status=none
cp x.dat x.orig
"$dk" ebg env read x.dat >/dev/null 2>err
st=$?
grep -q 'x.dat: CRC-32 mismatch' err && [ $st = 2 ] && ! bg_printenv -f x.dat >/dev/null 2>&1
ok $? "a changed byte: CRC-32 mismatch, exit 2 (bg_printenv refuses it too)"
"$dk" ebg env write x.dat --revision 8 2>err
st=$?
[ $st = 2 ] && cmp -s x.dat x.orig && [ "$(ls | grep -c tmp)" = 0 ]
ok $? "write refuses to change a corrupt file and leaves it untouched"
head -c 100000 a.dat >t.dat
cp t.dat t.orig
"$dk" ebg env read t.dat >/dev/null 2>err
st=$?
grep -q 't.dat: truncated: 100000 bytes' err && [ $st = 2 ] && ! bg_printenv -f t.dat >/dev/null 2>&1
ok $? "a truncated file: exit 2 (bg_printenv refuses it too)"
"$dk" ebg env write t.dat --revision 8 2>/dev/null
[ $? = 2 ] && cmp -s t.dat t.orig
ok $? "write leaves a truncated file untouched"
cat a.dat a.dat >g.dat
"$dk" ebg env read g.dat >/dev/null 2>err
[ $? = 2 ] && grep -q 'not a BGENV.DAT' err
ok $? "a file too long is refused"
"$dk" ebg env write --new x.dat --revision 8 2>>diag && same_reading x.dat
ok $? "--new replaces a corrupt file with a fresh environment"

tap_end
