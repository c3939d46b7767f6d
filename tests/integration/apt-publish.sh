#!/bin/bash
# apt-publish.sh - a real apt-get must trust, update from and install out of a tree `debkeep publish` wrote.
#
#   tests/integration/apt-publish.sh DEBKEEP
#
# Builds three .debs and a throwaway signing key (tests/fixtures/publish/), publishes them signed, then
# points a private apt configuration (the published key as its only trusted key, no [trusted=yes]) at
# the tree over file:// and over HTTP from `debkeep serve`: apt-get update, apt-get install -s (apt's
# resolver over our Packages), apt-get download (apt checks each .deb's hash), dpkg --root into a
# scratch root. Also: same input gives byte-identical indices, another key is refused, serve's Range,
# HEAD and traversal handling; and the nginx configuration of docs/publishing.md serving apt (skipped
# without nginx; DEBKEEP_NGINX names the binary). Needs apt, dpkg-deb, gpg, gpgv, curl, python3.
# Prints TAP.
set -uo pipefail

debkeep=$(realpath "${1:?usage: apt-publish.sh DEBKEEP}")
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../fixtures/publish

# shellcheck source=../lib/fixture.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/fixture.sh"

server=
on_exit() { [ -z "$server" ] || kill "$server" 2>/dev/null; }
fixture_tmp
arch=$(dpkg --print-architecture)
"$fixtures/make-debs.sh" "$tmp/debs" "$arch"
fpr=$(fixture_key "$tmp/gnupg" "$tmp/archive-key.gpg")

"$debkeep" --root "$tmp/root" publish "$tmp/debs" --prefix dk --suite stable --codename dkstable \
	--sign "$fpr" --gnupghome "$tmp/gnupg" --date 1700000000 > "$tmp/out" 2>&1
ok $? "publish signed tree"
d=$tmp/root/public/dk/dists/stable
test -s "$d/InRelease" -a -s "$d/Release.gpg" -a -s "$d/main/binary-$arch/Packages.xz"
ok $? "InRelease, Release.gpg and Packages.xz exist"
gpgv --keyring "$tmp/archive-key.gpg" "$d/Release.gpg" "$d/Release" 2>/dev/null
ok $? "Release.gpg verifies with gpgv"
! grep -q '^Valid-Until' "$d/Release"
ok $? "no Valid-Until unless asked"

mkdir -p "$tmp/before"
(cd "$d" && find . -name by-hash -prune -o -type f ! -name InRelease ! -name Release.gpg -print |
	sort | while read -r f; do mkdir -p "$tmp/before/$(dirname "$f")"; cp "$f" "$tmp/before/$f"; done)
"$debkeep" --root "$tmp/root" publish "$tmp/debs" --prefix dk --suite stable --codename dkstable \
	--sign "$fpr" --gnupghome "$tmp/gnupg" --date 1700000000 > /dev/null 2>&1
same=0
for f in $(cd "$tmp/before" && find . -type f); do cmp -s "$tmp/before/$f" "$d/$f" || same=1; done
ok $same "publishing the same input twice gives byte-identical Release and Packages files"
! ls -d "$tmp/root/public"/.staging-* > /dev/null 2>&1
ok $? "no staging directory left behind"

# Readers during publishes: every Release a reader sees must name indices that are there by hash.
mkdir -p "$tmp/fewer"
cp "$tmp/debs/dk-data.deb" "$tmp/debs/libdk1.deb" "$tmp/fewer/"
(
	for i in $(seq 20); do
		src=$tmp/debs
		[ $((i % 2)) -eq 0 ] || src=$tmp/fewer
		"$debkeep" --root "$tmp/race" publish "$src" --suite s --date "$((1700000000 + i))" > /dev/null || exit 1
	done
) &
publisher=$!
missing=0 reads=0
while kill -0 "$publisher" 2>/dev/null; do
	rel=$(cat "$tmp/race/public/dists/s/Release" 2>/dev/null) || continue
	reads=$((reads + 1))
	while read -r h _ f; do
		[ -e "$tmp/race/public/dists/s/$(dirname "$f")/by-hash/SHA256/$h" ] || missing=$((missing + 1))
	done < <(printf '%s\n' "$rel" | sed -n '/^SHA256:/,$p' | tail -n +2)
done
wait "$publisher"
ok $? "20 publishes while reading ($reads Release reads)"
[ "$missing" -eq 0 ]
ok $? "every index a reader's Release named was there by hash ($missing missing)"

# A private apt (tests/lib/fixture.sh) in $tmp/apt-NAME.
apt_setup() { # NAME URI
	apt_private "$tmp/apt-$1" "$tmp/archive-key.gpg" "$2" stable
}

apt_client() { # NAME URI
	local a=$tmp/apt-$1 scratch=$tmp/scratch-$1
	apt_setup "$1" "$2"
	apt_in "$a" apt-get update > "$a/update.log" 2>&1
	ok $? "$1: apt-get update verifies and reads the tree"
	! grep -Eqi '^(W|E):' "$a/update.log"
	ok $? "$1: apt-get update gave no warnings"
	apt_in "$a" apt-get install -s dk-hello > "$a/sim.log" 2>&1 &&
		grep -q '^Inst libdk1 (1:2.3-4' "$a/sim.log" && grep -q '^Inst dk-data (1.0-1' "$a/sim.log"
	ok $? "$1: apt resolves dk-hello with its dependencies from our Packages"
	(cd "$a/dl" && apt_in "$a" apt-get download dk-hello dk-data libdk1 > "$a/dl.log" 2>&1)
	ok $? "$1: apt-get download fetches and hash-checks the .debs"
	mkdir -p "$scratch/var/lib/dpkg/info" "$scratch/var/lib/dpkg/updates"
	: > "$scratch/var/lib/dpkg/status"
	dpkg --root="$scratch" -i "$a"/dl/*.deb > "$a/dpkg.log" 2>&1 &&
		grep -qx 'hello from debkeep' "$scratch/usr/share/dk-hello/hello.txt"
	ok $? "$1: dpkg --root installs them into a scratch root"
	# apt-get install itself, with dpkg pointed at a second scratch root and apt at its status file.
	apt_install "$a" "$scratch-apt" dk-hello &&
		grep -qx 'hello from debkeep' "$scratch-apt/usr/share/dk-hello/hello.txt" &&
		grep -q '^Package: libdk1' "$scratch-apt/var/lib/dpkg/status"
	ok $? "$1: apt-get install -y puts dk-hello and its dependencies into a scratch root"
}

apt_client file "file://$tmp/root/public/dk"

# The repository's own way: import into a collection, freeze a snapshot, publish the snapshot by name.
r=$tmp/repo
"$debkeep" --root "$r" init > /dev/null && "$debkeep" --root "$r" import "$tmp/debs" > /dev/null &&
	"$debkeep" --root "$r" snapshot create rel-1 --from-local > /dev/null
ok $? "init, import into a collection, snapshot create"
"$debkeep" --root "$r" publish rel-1 --prefix dk --suite stable --codename dkstable \
	--sign "$fpr" --gnupghome "$tmp/gnupg" > "$tmp/snap.out" 2>&1
ok $? "publish the snapshot by name"
pool=$(find "$r/public/dk/pool" -name 'dk-hello_*.deb')
[ -n "$pool" ] && [ "$(stat -c %h "$pool")" -ge 2 ] &&
	[ -n "$(find "$r/objects" -samefile "$pool")" ]
ok $? "the pool holds hard links to the snapshot's objects"
cp "$r/public/dk/dists/stable/Release" "$tmp/snap-release"
"$debkeep" --root "$r" publish rel-1 --prefix dk --suite stable --codename dkstable > /dev/null 2>&1 &&
	cmp -s "$tmp/snap-release" "$r/public/dk/dists/stable/Release"
ok $? "publishing the same snapshot again gives a byte-identical Release (the snapshot's date)"
"$debkeep" --root "$r" publish rel-1 --prefix dk --suite stable --codename dkstable \
	--sign "$fpr" --gnupghome "$tmp/gnupg" > /dev/null 2>&1
apt_client snapshot "file://$r/public/dk"
! "$debkeep" --root "$r" snapshot drop rel-1 > "$tmp/drop.out" 2>&1 && grep -q "in use by publication 'dk/stable'" "$tmp/drop.out"
ok $? "a published snapshot cannot be dropped ($(head -c 120 "$tmp/drop.out"))"

# The same tree signed by a key apt was not given must be refused.
mkdir -p "$tmp/other"
other=$("$fixtures/make-key.sh" "$tmp/gnupg-other")
"$debkeep" --root "$tmp/other" publish "$tmp/debs" --prefix dk --suite stable --sign "$other" \
	--gnupghome "$tmp/gnupg-other" --date 1700000000 > /dev/null 2>&1
apt_setup bad "file://$tmp/other/public/dk"
apt_in "$tmp/apt-bad" apt-get update > "$tmp/apt-bad/update.log" 2>&1
grep -q 'NO_PUBKEY\|not signed\|is not signed' "$tmp/apt-bad/update.log" &&
	! apt_in "$tmp/apt-bad" apt-get install -s dk-hello > /dev/null 2>&1
ok $? "a tree signed by another key is refused"

"$debkeep" --root "$tmp/root" serve --listen 127.0.0.1:0 > "$tmp/serve.out" 2> "$tmp/serve.err" &
server=$!
for _ in $(seq 50); do grep -q http "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*/' "$tmp/serve.out")
ok $? "serve prints the address it listens on ($url)"

deb=pool/main/d/dk-hello/dk-hello_0.9-1_${arch}.deb
size=$(stat -c %s "$tmp/root/public/dk/$deb")
curl -sf -o "$tmp/got.deb" "${url}dk/$deb" && cmp -s "$tmp/got.deb" "$tmp/root/public/dk/$deb"
ok $? "GET returns the file"
curl -sfI "${url}dk/$deb" > "$tmp/head" &&
	grep -qi "^content-length: $size" "$tmp/head" && grep -qi '^last-modified: ' "$tmp/head"
ok $? "HEAD gives Content-Length and Last-Modified"
code=$(curl -s -o "$tmp/part" -w '%{http_code}' -r 10-19 "${url}dk/$deb")
[ "$code" = 206 ] && cmp -s "$tmp/part" <(tail -c +11 "$tmp/root/public/dk/$deb" | head -c 10)
ok $? "Range 10-19 gives 206 and the right ten bytes"
code=$(curl -s -o /dev/null -w '%{http_code}' -r "$((size + 5))-" "${url}dk/$deb")
[ "$code" = 416 ]
ok $? "a range past the end gives 416"
code=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "${url}dk/../../../../etc/passwd")
[ "$code" = 404 ]
ok $? "no way out of public/ with .. (got $code)"
ln -s /etc/passwd "$tmp/root/public/dk/link"
code=$(curl -s -o /dev/null -w '%{http_code}' "${url}dk/link")
[ "$code" = 404 ]
ok $? "symbolic links are not followed (got $code)"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${url}dk/$deb")
[ "$code" = 405 ]
ok $? "POST gives 405"

apt_client http "${url}dk"

kill "$server"
wait "$server"
ok $? "serve stops cleanly on SIGTERM"
server=

# The nginx configuration docs/publishing.md gives for production, serving the same tree to apt.
# nginx is $DEBKEEP_NGINX or on PATH; without it these are skipped.
nginx=${DEBKEEP_NGINX:-$(command -v nginx || true)}
if [ -n "$nginx" ]; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$tmp/nginx/logs"
	{
		echo "daemon off; pid $tmp/nginx/pid; error_log $tmp/nginx/logs/error.log;"
		# Workers would run as nobody, who cannot enter the 0700 temporary directory.
		[ "$(id -u)" != 0 ] || echo "user root;"
		echo "events {}"
		echo "http { access_log off; client_body_temp_path $tmp/nginx; proxy_temp_path $tmp/nginx;"
		echo "fastcgi_temp_path $tmp/nginx; uwsgi_temp_path $tmp/nginx; scgi_temp_path $tmp/nginx;"
		sed -n '/^```nginx$/,/^```$/p' "$here/../../docs/publishing.md" | sed '1d;$d' |
			sed -e "s|listen 80;|listen 127.0.0.1:$port;|" -e '/listen \[::\]:80;/d' \
				-e "s|root /srv/debkeep/public;|root $tmp/root/public;|"
		echo "}"
	} > "$tmp/nginx/nginx.conf"
	"$nginx" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" > "$tmp/nginx/out" 2>&1 &
	server=$!
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
	code=$(curl -s -o /dev/null -w '%{http_code}' -r 0-9 "http://127.0.0.1:$port/dk/$deb")
	[ "$code" = 206 ]
	ok $? "nginx with the documented configuration answers a Range (got $code)"
	apt_client nginx "http://127.0.0.1:$port/dk"
	kill "$server"
	wait "$server" 2>/dev/null
	server=
else
	for _ in $(seq 7); do n=$((n + 1)); echo "ok $n # skip nginx not installed"; done
fi

tap_end
