#!/bin/bash
# switch.sh - publish switch and publish drop as a real apt sees them; gc and check around them.
#
#   tests/integration/maint/switch.sh DEBKEEP
#
# The fixture world (tests/fixtures/repo/make-world.sh) as snapshots s1 (hello 1.0) and s2 (hello 1.1),
# published signed as dk/stable and dk/testing. `publish switch` moves stable to s2 with the options
# recorded at the first publish (codename, signing key); apt (the published key as its only trusted
# key) then sees hello 1.1. `publish drop` removes testing, and only the pool files no suite names.
# Merge and filter results are published and installed too. Last, check's findings through the command:
# a deleted by-hash file, InRelease signed by another key. Needs dpkg-deb, apt, gpg, jq. Prints TAP.
set -uo pipefail

debkeep=$(realpath "${1:?usage: switch.sh DEBKEEP}")

# shellcheck source=../../lib/fixture.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/fixture.sh"

fixture_tmp
arch=$(dpkg --print-architecture)
fixture_world "$tmp" || { echo "Bail out! fixture world or key failed"; exit 1; }
root=$tmp/root
dk() { "$debkeep" --root "$root" "$@"; }

fixture_snapshots "$debkeep" "$root" "$tmp/world"
ok $? "two snapshots"
dk publish s1 --prefix dk --suite stable --codename dkstable --sign "$fpr" --gnupghome "$tmp/gnupg" > /dev/null &&
	dk publish s2 --prefix dk --suite testing --sign "$fpr" --gnupghome "$tmp/gnupg" > /dev/null
ok $? "s1 published as dk/stable, s2 as dk/testing"

a=$tmp/apt
apt_for() { # SUITE: a fresh private apt state pointed at the suite
	apt_private "$a" "$tmp/archive-key.gpg" "file://$root/public/dk" "$1" && apt_update "$a"
}
candidate() { # PACKAGE: the version apt would install
	apt_in "$a" apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'
}

apt_for stable && [ "$(candidate hello)" = 1.0-1 ]
ok $? "apt on stable: hello 1.0-1"
dk publish switch s2 --prefix dk --suite stable > "$tmp/switch.out" 2>&1
ok $? "publish switch s2 ($(cat "$tmp/switch.out"))"
grep -q '^Codename: dkstable' "$root/public/dk/dists/stable/Release" && [ -s "$root/public/dk/dists/stable/InRelease" ]
ok $? "switch kept the recorded codename and signed with the recorded key"
apt_for stable && [ "$(candidate hello)" = 1.1-1 ] && (cd "$a/dl" && apt_in "$a" apt-get download hello newtool > /dev/null 2>&1)
ok $? "apt on stable after the switch: hello 1.1-1, and the .debs download"
! dk snapshot drop s2 > /dev/null 2>&1 && dk snapshot drop s1 > "$tmp/drop.out" 2>&1
ok $? "s2 is now in use, s1 free to drop ($(cat "$tmp/drop.out"))"
dk check > "$tmp/check.out" 2>&1
ok $? "check clean after the switch"

dk publish drop --prefix dk --suite testing > "$tmp/pdrop.out" 2>&1 && [ ! -e "$root/public/dk/dists/testing" ]
ok $? "publish drop testing ($(cat "$tmp/pdrop.out"))"
apt_for stable && (cd "$a/dl" && rm -f ./*.deb && apt_in "$a" apt-get download hello libc6 base-files > /dev/null 2>&1)
ok $? "stable still serves what it names after testing's drop"
dk check > "$tmp/check.out" 2>&1
ok $? "check clean after the drop"
! dk publish drop --prefix dk --suite testing > "$tmp/pdrop2.out" 2>&1 && grep -q 'not published' "$tmp/pdrop2.out"
ok $? "dropping it again: $(cat "$tmp/pdrop2.out")"
! dk publish switch s2 --prefix dk --suite nosuch > "$tmp/sw2.out" 2>&1 && grep -q 'not published from a snapshot' "$tmp/sw2.out"
ok $? "switching an unknown suite: $(cat "$tmp/sw2.out")"

# A publication whose public directory went away (a temporary one, removed by hand): check reports it,
# and publish drop forgets the record.
dk publish s2 --prefix dk --suite gone --public "$tmp/elsewhere" > /dev/null && rm -rf "$tmp/elsewhere" &&
	! dk check > "$tmp/check-gone.out" 2>&1 && grep -q "publication 'dk/gone': recorded, but" "$tmp/check-gone.out"
ok $? "check reports the publication whose tree is gone: $(grep -m1 gone "$tmp/check-gone.out")"
dk publish drop --prefix dk --suite gone > "$tmp/pdrop3.out" 2>&1 && dk check > "$tmp/check.out" 2>&1
ok $? "publish drop forgets it ($(cat "$tmp/pdrop3.out")); check clean"

# Merge and filter results as apt sees them.
dk snapshot create s1b --from-local > /dev/null &&
	dk snapshot merge m s1b s2 > /dev/null &&
	printf 'release: test\narchitectures: [%s]\npackages:\n  - name: mailer\n    reason: test\n' "$arch" > "$tmp/list.yaml" &&
	dk snapshot filter f --from m --list "$tmp/list.yaml" > "$tmp/filter.out" 2>&1 &&
	dk publish f --prefix dk --suite small --sign "$fpr" --gnupghome "$tmp/gnupg" > /dev/null
ok $? "merge, filter to mailer's closure, publish ($(cat "$tmp/filter.out"))"
apt_for small && [ -n "$(candidate mailer)" ] && [ -n "$(candidate mail-acme)" ] && [ -z "$(candidate hello)" ]
ok $? "apt on the filtered suite: mailer and mail-acme, no hello"
apt_install "$a" "$tmp/scratch" mailer && grep -q '^Package: mail-acme' "$tmp/scratch/var/lib/dpkg/status"
ok $? "apt-get install mailer from the filtered suite into a scratch root"
dk gc > "$tmp/gc.out" 2>&1 && dk check > "$tmp/check.out" 2>&1
ok $? "gc, then check clean ($(head -1 "$tmp/gc.out"))"

# What check finds in a published tree, as the command reports it: exit 1, one line per problem, --json.
d=$root/public/dk/dists/stable
sha=$(awk '/^SHA256:/ { f = 1; next } f && $3 ~ /\/Packages\.xz$/ { print $1; exit }' "$d/Release")
bh=$d/main/binary-$arch/by-hash/SHA256/$sha
want="public/dk/dists/stable/main/binary-$arch/by-hash/SHA256/$sha: missing (Release lists main/binary-$arch/Packages.xz with this SHA256)"
rm -f "$bh"
dk check > "$tmp/check.out" 2> /dev/null
rc=$?
[ $rc -eq 1 ] && [ "$(cat "$tmp/check.out")" = "$want" ]
ok $? "a deleted by-hash file: exit $rc, one finding ($(head -c 200 "$tmp/check.out"))"
dk check --json > "$tmp/check.json" 2> /dev/null
rc=$?
[ $rc -eq 1 ] && jq -e --arg w "${want%%: *}" --arg p "${want#*: }" '.problems == [{ "where": $w, "problem": $p }]' \
	"$tmp/check.json" > /dev/null
ok $? "check --json lists it (exit $rc)"
ln "$d/main/binary-$arch/Packages.xz" "$bh"
other=$(fixture_key "$tmp/gnupg-other" "$tmp/other-key.gpg") &&
	GNUPGHOME=$tmp/gnupg-other gpg --batch --yes --local-user "$other" --clearsign -o "$d/InRelease" "$d/Release" 2> /dev/null
dk check > "$tmp/check.out" 2> /dev/null
rc=$?
[ $rc -eq 1 ] && [ "$(cat "$tmp/check.out")" = "public/dk/dists/stable/InRelease: does not verify with the publication's key '$fpr': made by another key" ]
ok $? "InRelease re-signed by another key: exit $rc, one finding ($(head -c 200 "$tmp/check.out"))"

tap_end
