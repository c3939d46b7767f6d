#!/bin/bash
# crash.sh - SIGKILL import, publish, publish switch and drop, and gc at random points; the data root must
# stay consistent.
#
#   tests/integration/maint/crash.sh DEBKEEP [ROUNDS]
#
# A fixture world (tests/fixtures/repo/make-world.sh) is imported, snapshotted (s1, s2) and published
# signed as dk/stable. Then ROUNDS times (default 30) each of: `import` (into a new collection),
# `publish` (the other snapshot over dk/stable), `publish switch` (dk/stable back to the snapshot it had),
# `publish drop` (of dk/testing, published first), `gc` (with orphan objects, a garbage row and dead
# staging to remove) and, when this debkeep has it, `mirror update` (of the published tree itself)
# is started and killed with SIGKILL after 0-300 ms. After every kill: `debkeep
# check` is clean, a private apt (the published key as its only trusted key) updates from the tree and
# downloads (hash-checks) hello; and the killed command, run again, completes. At the end apt-get
# installs hello into a scratch root. Then a full disk: a small tmpfs as the data root, where an import
# and a publish that run out of space fail with one line, exit 2, and leave the root as it was (skipped
# when tmpfs cannot be mounted). Needs root (for the mount), dpkg-deb, apt, gpg, sqlite3. Prints TAP.
set -uo pipefail

debkeep=$(realpath "${1:?usage: crash.sh DEBKEEP [ROUNDS]}")
rounds=${2:-${CRASH_ROUNDS:-30}}

# shellcheck source=../../lib/fixture.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/fixture.sh"

mnt=
on_exit() { [ -z "$mnt" ] || umount "$mnt" 2>/dev/null; }
fixture_tmp
arch=$(dpkg --print-architecture)
fixture_world "$tmp" || { echo "Bail out! fixture world or key failed"; exit 1; }
root=$tmp/root
dk() { "$debkeep" --root "$root" "$@"; }
dkx=("$debkeep" --root "$root")

fixture_snapshots "$debkeep" "$root" "$tmp/world" &&
	dk publish s1 --prefix dk --suite stable --sign "$fpr" --gnupghome "$tmp/gnupg" > /dev/null
ok $? "fixture root: two snapshots, s1 published signed as dk/stable"

a=$tmp/apt
apt_private "$a" "$tmp/archive-key.gpg" "file://$root/public/dk" stable

# apt reads the tree: update verifies InRelease and the indices, download checks hello's hash.
apt_serves() {
	rm -rf "$a/state/lists" "$a/dl"/* && mkdir -p "$a/state/lists/partial" || return 1
	apt_update "$a" && (cd "$a/dl" && apt_in "$a" apt-get download hello > "$a/dl.log" 2>&1)
}
apt_serves
ok $? "apt-get update and download from the published tree"

# Garbage for gc: a row nothing refers to, orphan objects, a dead process's staging.
make_garbage() {
	dk import "$tmp/world/rebuilt" --into junk > /dev/null 2>&1
	sqlite3 "$root/debkeep.db" "DELETE FROM collection_members WHERE collection_id IN
		(SELECT id FROM collections WHERE name = 'junk')" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8; do
		head -c 2048 /dev/urandom > "$tmp/orphan"
		sha=$(sha256sum "$tmp/orphan" | cut -c1-64)
		install -m 0444 "$tmp/orphan" "$root/objects/${sha:0:2}/${sha:2}"
	done
	head -c 4096 /dev/urandom > "$root/tmp/obj-999999-0-$sha"
	head -c 4096 /dev/urandom > "$root/objects/${sha:0:2}/.obj-999999-1-$sha"
}

# kill_at CMD...: start it, SIGKILL it after 0-300 ms (it may have finished); 0 if it was killed.
kill_at() {
	"$@" > "$tmp/killed.out" 2>&1 &
	local pid=$! ms=$((RANDOM % 301))
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "$pid" 2>/dev/null
	local killed=$?
	wait "$pid" 2>/dev/null
	return $killed
}

# When this debkeep has `mirror update`, it is killed too: a mirror of the published tree itself.
whats="import publish switch drop gc"
if "$debkeep" mirror create --help > /dev/null 2>&1; then
	dk mirror create m "file://$root/public/dk" --suite stable --components main --archs "$arch" \
		--keyring "$tmp/archive-key.gpg" > /dev/null && dk mirror update m > "$tmp/mirror.out" 2>&1
	ok $? "a mirror of the published tree ($(head -c 100 "$tmp/mirror.out"))"
	whats="$whats mirror"
fi

declare -A kills=() check_bad=() apt_bad=() rerun_bad=()
snap=s2 other=s1
for round in $(seq "$rounds"); do
	for what in $whats; do
		case $what in
		import) cmd=("${dkx[@]}" import "$tmp/world/v2" "$tmp/world/rebuilt" --into "c$round") ;;
		publish) cmd=("${dkx[@]}" publish "$snap" --prefix dk --suite stable --sign "$fpr" --gnupghome "$tmp/gnupg") ;;
		switch) cmd=("${dkx[@]}" publish switch "$other" --prefix dk --suite stable) ;;
		drop)
			dk publish "$snap" --prefix dk --suite testing --sign "$fpr" --gnupghome "$tmp/gnupg" > /dev/null ||
				echo "# round $round: publishing dk/testing to drop it failed"
			cmd=("${dkx[@]}" publish drop --prefix dk --suite testing)
			;;
		gc) make_garbage; cmd=("${dkx[@]}" gc) ;;
		mirror) cmd=("${dkx[@]}" mirror update m) ;;
		esac
		kill_at "${cmd[@]}" && kills[$what]=$((${kills[$what]:-0} + 1))
		if ! dk check > "$tmp/check.out" 2>&1; then
			check_bad[$what]=$((${check_bad[$what]:-0} + 1))
			echo "# round $round, $what killed: check says:"; sed 's/^/#   /' "$tmp/check.out" | head -5
		fi
		case $what in publish | switch | drop) serve=1 ;; *) serve=$((round % 5 == 0)) ;; esac
		if [ $serve -eq 1 ]; then
			apt_serves || { apt_bad[$what]=$((${apt_bad[$what]:-0} + 1)); echo "# round $round, $what: apt failed"; }
		fi
		# A drop the kill missed has nothing left to drop: its re-run finds the suite not published.
		if ! "${cmd[@]}" > "$tmp/rerun.out" 2>&1 &&
			! { [ "$what" = drop ] && [ ! -e "$root/public/dk/dists/testing" ] && grep -q 'not published' "$tmp/rerun.out"; }; then
			rerun_bad[$what]=$((${rerun_bad[$what]:-0} + 1))
			echo "# round $round, $what re-run failed:"; sed 's/^/#   /' "$tmp/rerun.out" | head -3
		fi
	done
	[ "$snap" = s2 ] && snap=s1 other=s2 || snap=s2 other=s1
done
for what in $whats; do
	echo "# $what: killed mid-run $((${kills[$what]:-0})) of $rounds times"
	[ "${check_bad[$what]:-0}" -eq 0 ]
	ok $? "$what killed $rounds times: debkeep check clean every time (${check_bad[$what]:-0} failures)"
	[ "${apt_bad[$what]:-0}" -eq 0 ]
	ok $? "$what killed: the published tree served apt every time (${apt_bad[$what]:-0} failures)"
	[ "${rerun_bad[$what]:-0}" -eq 0 ]
	ok $? "$what killed: the re-run completed every time (${rerun_bad[$what]:-0} failures)"
done
dk check > "$tmp/check.out" 2>&1
ok $? "final check clean"
dk gc > /dev/null && [ -z "$(find "$root/tmp" "$root/objects" -name 'obj-*' -o -name '.obj-*')" ] && [ -z "$(find "$root/public" -maxdepth 1 -name '.staging-*')" ]
ok $? "gc leaves no staging behind"

apt_serves && apt_install "$a" "$tmp/scratch" hello && grep -q '^Package: hello' "$tmp/scratch/var/lib/dpkg/status"
ok $? "apt-get install hello into a scratch root from the tree after all the kills"

# Full disk: the root on a small tmpfs; what runs out of space fails cleanly and changes nothing.
state() { # the root as data: db dump, objects, public/ listing
	sqlite3 "$1/debkeep.db" .dump 2>/dev/null | grep -v '^INSERT INTO migrations'
	(cd "$1" && find objects public -printf '%p %s %m\n' 2>/dev/null | sort)
}
mnt=$tmp/small
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=1024k tmpfs "$mnt" 2> /dev/null; then
	mnt=
	for _ in 1 2 3 4; do
		n=$((n + 1))
		echo "ok $n # SKIP full disk: cannot mount a tmpfs"
	done
else
	small=$mnt/root
	"$debkeep" --root "$small" init > /dev/null && "$debkeep" --root "$small" import "$tmp/world/v1" > /dev/null &&
		"$debkeep" --root "$small" snapshot create s1 --from-local > /dev/null &&
		"$debkeep" --root "$small" import "$tmp/world/v2" --into v2 > /dev/null &&
		"$debkeep" --root "$small" snapshot create s2 --from-local v2 > /dev/null &&
		"$debkeep" --root "$small" publish s1 --prefix dk --suite stable > /dev/null
	ok $? "a root on a 1 MB tmpfs"
	# A .deb bigger than what is left.
	big=$tmp/big/usr/share/big
	mkdir -p "$big" "$tmp/big/DEBIAN"
	head -c 3000000 /dev/urandom > "$big/blob"
	printf 'Package: big\nVersion: 1\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: big\n' \
		> "$tmp/big/DEBIAN/control"
	dpkg-deb -Znone --build "$tmp/big" "$tmp/big.deb" > /dev/null
	state "$small" > "$tmp/before"
	"$debkeep" --root "$small" import "$tmp/big.deb" > "$tmp/full.out" 2>&1
	rc=$?
	state "$small" > "$tmp/after"
	[ $rc -eq 2 ] && [ "$(wc -l < "$tmp/full.out")" -eq 1 ] && cmp -s "$tmp/before" "$tmp/after" &&
		[ -z "$(ls "$small/tmp")" ]
	ok $? "import on a full disk: exit $rc, one line ($(head -c 100 "$tmp/full.out")), root unchanged"
	# Fill what is left but a little, then publish the other snapshot over dk/stable. Where it runs out
	# depends on how much is left (opening the database, staging the indices), so try a few amounts.
	failures=0 unclean=0
	for left in 8 16 24 32 40; do
		avail=$(df --output=avail -k "$mnt" | tail -1)
		head -c $(((avail - left) * 1024)) /dev/zero > "$mnt/filler" 2>/dev/null
		state "$small" > "$tmp/before"
		"$debkeep" --root "$small" publish s2 --prefix dk --suite stable > "$tmp/full.out" 2>&1
		rc=$?
		state "$small" > "$tmp/after"
		rm -f "$mnt/filler"
		if [ $rc -eq 0 ]; then
			"$debkeep" --root "$small" publish s1 --prefix dk --suite stable > /dev/null 2>&1
			continue
		fi
		failures=$((failures + 1))
		echo "# $left KB left: exit $rc: $(head -c 150 "$tmp/full.out")"
		if [ $rc -ne 2 ] || [ "$(wc -l < "$tmp/full.out")" -ne 1 ] || ! cmp -s "$tmp/before" "$tmp/after"; then
			unclean=$((unclean + 1))
			diff "$tmp/before" "$tmp/after" | head -10 | sed 's/^/# /'
		fi
	done
	[ $failures -gt 0 ] && [ $unclean -eq 0 ]
	ok $? "publish on a full disk: $failures failures, each exit 2 with one line and the root unchanged ($unclean not)"
	"$debkeep" --root "$small" check > /dev/null 2>&1
	ok $? "check clean after the full-disk failures"
fi

tap_end
