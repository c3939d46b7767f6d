#!/bin/bash
# mirror-real.sh - mirror the real bookworm main (amd64) for the CIP example list, then debootstrap from it.
#
#   tests/integration/mirror/mirror-real.sh DEBKEEP SRCDIR
#
# The upstream is the Debian archive this machine's apt uses (tests/lib/apt-data.sh reads it from the
# apt sources), verified against /usr/share/keyrings/debian-archive-keyring.gpg only. The data root is
# kept in /var/cache/debkeep-test/mirror-bookworm-amd64/ (DEBKEEP_MIRROR_CACHE), so a re-run downloads
# the indices and only what changed upstream. Then: every Priority: required package and apt are in the
# closure (debootstrap's minbase needs them), snapshot, publish signed with a throwaway key, serve, and
# `debootstrap --variant=minbase --keyring=KEY bookworm DIR http://127.0.0.1:PORT/cip` must succeed.
# Needs network access to the archive, debootstrap, gpg, sqlite3, jq. Prints TAP.
set -uo pipefail

debkeep=$(realpath "${1:?usage: mirror-real.sh DEBKEEP SRCDIR}")
src=$(realpath "${2:?usage: mirror-real.sh DEBKEEP SRCDIR}")
cache=${DEBKEEP_MIRROR_CACHE:-/var/cache/debkeep-test/mirror-bookworm-amd64}
# shellcheck source=../../lib/apt-data.sh
. "$src/tests/lib/apt-data.sh"
set +e
tmp=$(mktemp -d)
server=
cleanup() {
	[ -z "$server" ] || kill "$server" 2>/dev/null
	gpgconf --homedir "$tmp/gnupg" --kill gpg-agent 2>/dev/null
	umount "$tmp/target/proc" "$tmp/target/sys" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -z "${KEEP:-}" ] || trap - EXIT

n=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
dk() { "$debkeep" --root "$cache/root" "$@"; }

uri=$(archive_uri)
ok $? "the archive the machine's apt uses: $uri"
mkdir -p "$cache"
[ -e "$cache/root/debkeep.db" ] || dk init > /dev/null
# The CIP list's closure has every Priority: required package and apt, but bookworm's debootstrap also
# installs usr-is-merged (the merged-/usr marker), which nothing in the list depends on: add it.
awk '{ print } /^packages:/ { print "  - name: usr-is-merged"; print "    reason: debootstrap installs it (merged /usr)" }' \
	"$src/docs/examples/cip-core.yaml" > "$tmp/list.yaml"
if ! dk mirror show cip --json 2> /dev/null | jq -e '.list' > /dev/null ||
	! cmp -s "$tmp/list.yaml" "$cache/list.yaml"; then
	dk mirror drop cip > /dev/null 2>&1
	dk mirror create cip "$uri" --suite bookworm --components main --archs amd64 \
		--keyring /usr/share/keyrings/debian-archive-keyring.gpg --list "$tmp/list.yaml" > /dev/null &&
		cp "$tmp/list.yaml" "$cache/list.yaml"
fi
ok $? "mirror cip defined (bookworm main amd64, docs/examples/cip-core.yaml + usr-is-merged)"
start=$(date +%s)
dk mirror update cip --json > "$tmp/update.json" 2> "$tmp/update.err"
ok $? "mirror update verified InRelease, Packages and every .deb ($(($(date +%s) - start)) s; $(
	jq -c '{packages, new, debs_fetched, bytes_fetched, index_seconds}' "$tmp/update.json" 2>/dev/null
	) $(head -c 300 "$tmp/update.err"))"
jq -e '.signed_by | length == 40' "$tmp/update.json" > /dev/null
ok $? "signed by a Debian archive key ($(jq -r .signed_by "$tmp/update.json"))"

# debootstrap's minbase: every Priority: required package of the index, and apt.
sqlite3 "$cache/root/debkeep.db" "SELECT m.name FROM collection_members m JOIN collections c ON c.id = m.collection_id
	WHERE c.name = 'mirror/cip'" | sort -u > "$tmp/have"
sqlite3 "$cache/root/debkeep.db" "SELECT p.name FROM collection_members m JOIN collections c ON c.id = m.collection_id
	JOIN packages p ON p.id = m.package_id WHERE c.name = 'mirror/cip' AND p.control LIKE '%'||char(10)||'Priority: required%'" |
	sort -u > "$tmp/required-have"
[ "$(wc -l < "$tmp/required-have")" -gt 20 ] && grep -qx apt "$tmp/have"
ok $? "the closure holds $(wc -l < "$tmp/have") packages, $(wc -l < "$tmp/required-have") of Priority required, and apt"

# Named after the verified set, so a re-run with nothing new upstream reuses its snapshot.
snap=cip-$(sqlite3 "$cache/root/debkeep.db" "SELECT p.sha256 FROM collection_members m JOIN collections c
	ON c.id = m.collection_id JOIN packages p ON p.id = m.package_id WHERE c.name = 'mirror/cip' ORDER BY 1" |
	sha256sum | cut -c1-12)
dk snapshot show "$snap" > /dev/null 2>&1 || dk snapshot create "$snap" --from-mirror cip > /dev/null
ok $? "snapshot $snap of what the update verified"
fpr=$("$src/tests/fixtures/publish/make-key.sh" "$tmp/gnupg")
GNUPGHOME=$tmp/gnupg gpg --batch --export "$fpr" > "$tmp/key.gpg"
dk publish "$snap" --public "$tmp/public" --prefix cip --suite bookworm --sign "$fpr" --gnupghome "$tmp/gnupg" \
	> "$tmp/publish.out" 2>&1
ok $? "publish it signed with a test key ($(head -c 200 "$tmp/publish.out"))"
"$debkeep" --root "$cache/root" serve --public "$tmp/public" --listen 127.0.0.1:0 > "$tmp/serve.out" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q http "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$tmp/serve.out" | head -n1)
[ -n "$url" ]
ok $? "serve ($url)"
start=$(date +%s)
debootstrap --variant=minbase --keyring="$tmp/key.gpg" bookworm "$tmp/target" "$url/cip" > "$tmp/debootstrap.log" 2>&1
rc=$?
ok $rc "debootstrap --variant=minbase bookworm from the published mirror ($(($(date +%s) - start)) s$(
	[ $rc -eq 0 ] || echo "; $(tail -n 3 "$tmp/debootstrap.log" | tr '\n' ' ')"))"
[ -x "$tmp/target/usr/bin/apt-get" ] && grep -q '^Package: apt$' "$tmp/target/var/lib/dpkg/status"
ok $? "the new root has apt installed"
echo "1..$n"
