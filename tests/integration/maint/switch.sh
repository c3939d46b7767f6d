#!/bin/bash
# switch.sh - publish switch and publish drop as a real apt sees them; gc and check around them.
#
#   tests/integration/maint/switch.sh DEBKEEP
#
# The fixture world (tests/fixtures/repo/make-world.sh) as snapshots s1 (hello 1.0) and s2 (hello 1.1),
# published signed as dk/stable and dk/testing. `publish switch` moves stable to s2 with the options
# recorded at the first publish (codename, signing key); apt (the published key as its only trusted
# key) then sees hello 1.1. `publish drop` removes testing, and only the pool files no suite names.
# Merge and filter results are published and installed too. Needs dpkg-deb, apt, gpg. Prints TAP.
set -uo pipefail

debkeep=$(realpath "${1:?usage: switch.sh DEBKEEP}")
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../../fixtures
tmp=$(mktemp -d)
cleanup() {
	[ ! -d "$tmp/gnupg" ] || gpgconf --homedir "$tmp/gnupg" --kill gpg-agent 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -z "${KEEP:-}" ] || trap - EXIT

# shellcheck source=../../lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/tap.sh"

arch=$(dpkg --print-architecture)
ARCH=$arch "$fixtures/repo/make-world.sh" "$tmp/world" || { echo "Bail out! make-world.sh failed"; exit 1; }
fpr=$("$fixtures/publish/make-key.sh" "$tmp/gnupg")
GNUPGHOME=$tmp/gnupg gpg --batch --export "$fpr" > "$tmp/archive-key.gpg"
root=$tmp/root
dk() { "$debkeep" --root "$root" "$@"; }

dk init > /dev/null && dk import "$tmp/world/v1" > /dev/null && dk snapshot create s1 --from-local > /dev/null &&
	dk import "$tmp/world/v2" --into v2 > /dev/null && dk snapshot create s2 --from-local v2 > /dev/null
ok $? "two snapshots"
dk publish s1 --prefix dk --suite stable --codename dkstable --sign "$fpr" --gnupghome "$tmp/gnupg" > /dev/null &&
	dk publish s2 --prefix dk --suite testing --sign "$fpr" --gnupghome "$tmp/gnupg" > /dev/null
ok $? "s1 published as dk/stable, s2 as dk/testing"

a=$tmp/apt
apt_for() { # SUITE: a fresh private apt state pointed at the suite
	rm -rf "$a"
	mkdir -p "$a/state/lists/partial" "$a/cache/archives/partial" "$a/etc/trusted.gpg.d" \
		"$a/etc/preferences.d" "$a/etc/apt.conf.d" "$a/etc/sources.list.d" "$a/dl"
	: > "$a/status"
	echo "deb [signed-by=$tmp/archive-key.gpg] file://$root/public/dk $1 main" > "$a/etc/sources.list"
	cat > "$a/apt.conf" <<-EOF
	Dir::State "$a/state";
	Dir::State::status "$a/status";
	Dir::Cache "$a/cache";
	Dir::Etc "$a/etc";
	Dir::Etc::Trusted "$a/etc/trusted.gpg";
	Dir::Etc::TrustedParts "$a/etc/trusted.gpg.d";
	APT::Architecture "$arch";
	APT::Architectures { "$arch"; };
	APT::Sandbox::User "root";
	Acquire::Languages "none";
	EOF
	APT_CONFIG=$a/apt.conf apt-get update > "$a/update.log" 2>&1 && ! grep -Eq '^(W|E):' "$a/update.log"
}
candidate() { # PACKAGE: the version apt would install
	APT_CONFIG=$a/apt.conf apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'
}

apt_for stable && [ "$(candidate hello)" = 1.0-1 ]
ok $? "apt on stable: hello 1.0-1"
dk publish switch s2 --prefix dk --suite stable > "$tmp/switch.out" 2>&1
ok $? "publish switch s2 ($(cat "$tmp/switch.out"))"
grep -q '^Codename: dkstable' "$root/public/dk/dists/stable/Release" && [ -s "$root/public/dk/dists/stable/InRelease" ]
ok $? "switch kept the recorded codename and signed with the recorded key"
apt_for stable && [ "$(candidate hello)" = 1.1-1 ] && (cd "$a/dl" && APT_CONFIG=$a/apt.conf apt-get download hello newtool > /dev/null 2>&1)
ok $? "apt on stable after the switch: hello 1.1-1, and the .debs download"
! dk snapshot drop s2 > /dev/null 2>&1 && dk snapshot drop s1 > "$tmp/drop.out" 2>&1
ok $? "s2 is now in use, s1 free to drop ($(cat "$tmp/drop.out"))"
dk check > "$tmp/check.out" 2>&1
ok $? "check clean after the switch"

dk publish drop --prefix dk --suite testing > "$tmp/pdrop.out" 2>&1 && [ ! -e "$root/public/dk/dists/testing" ]
ok $? "publish drop testing ($(cat "$tmp/pdrop.out"))"
apt_for stable && (cd "$a/dl" && rm -f ./*.deb && APT_CONFIG=$a/apt.conf apt-get download hello libc6 base-files > /dev/null 2>&1)
ok $? "stable still serves what it names after testing's drop"
dk check > "$tmp/check.out" 2>&1
ok $? "check clean after the drop"
! dk publish drop --prefix dk --suite testing > "$tmp/pdrop2.out" 2>&1 && grep -q 'not published' "$tmp/pdrop2.out"
ok $? "dropping it again: $(cat "$tmp/pdrop2.out")"
! dk publish switch s2 --prefix dk --suite nosuch > "$tmp/sw2.out" 2>&1 && grep -q 'not published from a snapshot' "$tmp/sw2.out"
ok $? "switching an unknown suite: $(cat "$tmp/sw2.out")"

# Merge and filter results as apt sees them.
dk snapshot create s1b --from-local > /dev/null &&
	dk snapshot merge m s1b s2 > /dev/null &&
	printf 'release: test\narchitectures: [%s]\npackages:\n  - name: mailer\n    reason: test\n' "$arch" > "$tmp/list.yaml" &&
	dk snapshot filter f --from m --list "$tmp/list.yaml" > "$tmp/filter.out" 2>&1 &&
	dk publish f --prefix dk --suite small --sign "$fpr" --gnupghome "$tmp/gnupg" > /dev/null
ok $? "merge, filter to mailer's closure, publish ($(cat "$tmp/filter.out"))"
apt_for small && [ -n "$(candidate mailer)" ] && [ -n "$(candidate mail-acme)" ] && [ -z "$(candidate hello)" ]
ok $? "apt on the filtered suite: mailer and mail-acme, no hello"
mkdir -p "$tmp/scratch/var/lib/dpkg/info" "$tmp/scratch/var/lib/dpkg/updates"
: > "$tmp/scratch/var/lib/dpkg/status"
APT_CONFIG=$a/apt.conf apt-get install -y -o Dir::State::status="$tmp/scratch/var/lib/dpkg/status" \
	-o DPkg::Options::="--root=$tmp/scratch" mailer > "$a/install.log" 2>&1 &&
	grep -q '^Package: mail-acme' "$tmp/scratch/var/lib/dpkg/status"
ok $? "apt-get install mailer from the filtered suite into a scratch root"
dk gc > "$tmp/gc.out" 2>&1 && dk check > "$tmp/check.out" 2>&1
ok $? "gc, then check clean ($(head -1 "$tmp/gc.out"))"

tap_end
