# fixture.sh - the setup the apt integration scripts share: their temporary directory, the repository
# tests' world and data root, a throw-away signing key, and a private apt (its own state, cache and
# sources; the published key as its only trusted key, through signed-by, never [trusted=yes]) with the
# client steps run through it. Source it (it brings tap.sh along); uses $arch when set.
# shellcheck shell=bash

# shellcheck source=tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
fixture_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fixtures" && pwd)

# fixture_tmp: a new temporary directory in $tmp, removed at exit (KEEP=1 leaves it and its logs for a
# look after a failure) once the script's on_exit, when it defines one, has run (servers, mounts) and the
# gpg-agents signing started in $tmp/gnupg* are stopped.
fixture_tmp() {
	tmp=$(mktemp -d) || return 1
	trap fixture_cleanup EXIT
	[ -z "${KEEP:-}" ] || trap - EXIT
}

fixture_pids=()
fixture_cleanup() {
	local p
	! declare -F on_exit > /dev/null || on_exit
	for p in "${fixture_pids[@]}"; do kill "$p" 2> /dev/null; done
	gpg_agents_stop "$tmp"/gnupg*
	rm -rf "$tmp"
}

# fixture_key GNUPGHOME KEYRING: a throw-away signing key (tests/fixtures/publish/make-key.sh) whose
# public half goes to KEYRING, for apt's signed-by; prints its fingerprint.
fixture_key() {
	local fpr
	fpr=$("$fixture_dir/publish/make-key.sh" "$1") && [ -n "$fpr" ] &&
		GNUPGHOME=$1 gpg --batch --export "$fpr" > "$2" && echo "$fpr"
}

# fixture_world DIR: the repository tests' world of .debs in DIR/world (tests/fixtures/repo/make-world.sh)
# and a signing key in DIR/gnupg, its public half in DIR/archive-key.gpg and its fingerprint in $fpr.
fixture_world() {
	ARCH=${arch:-$(dpkg --print-architecture)} "$fixture_dir/repo/make-world.sh" "$1/world" &&
		fpr=$(fixture_key "$1/gnupg" "$1/archive-key.gpg")
}

# fixture_snapshots DEBKEEP ROOT WORLD: a new data root ROOT with WORLD's v1 imported (collection local)
# as snapshot s1 and its v2 (collection v2) as snapshot s2.
fixture_snapshots() {
	local dk=("$1" --root "$2")
	"${dk[@]}" init > /dev/null && "${dk[@]}" import "$3/v1" > /dev/null &&
		"${dk[@]}" snapshot create s1 --from-local > /dev/null &&
		"${dk[@]}" import "$3/v2" --into v2 > /dev/null && "${dk[@]}" snapshot create s2 --from-local v2 > /dev/null
}

# fixture_serve DEBKEEP PUBLIC: `debkeep serve` of PUBLIC on a free local port, stopped by fixture_cleanup
# (or the script's own cleanup killing ${fixture_pids[@]}); sets $url (http://127.0.0.1:PORT) once it
# listens, and fails if it never does.
fixture_serve() {
	"$1" serve --public "$2" --listen 127.0.0.1:0 > "$tmp/serve.out" 2>&1 &
	fixture_pids+=($!)
	for _ in $(seq 100); do grep -q http "$tmp/serve.out" 2> /dev/null && break; sleep 0.1; done
	url=$(grep -o 'http://[0-9.:]*' "$tmp/serve.out" | head -n1)
	[ -n "$url" ]
}

# gpg_agents_stop GNUPGHOME...: signing started an agent in each home; it would outlive the test.
gpg_agents_stop() {
	local h
	for h in "$@"; do
		[ ! -d "$h" ] || gpgconf --homedir "$h" --kill gpg-agent 2>/dev/null
	done
}

# apt_private DIR KEYRING URI SUITE: a fresh private apt in DIR for "deb [signed-by=KEYRING] URI SUITE main"
# (DIR/apt.conf, DIR/dl for downloads).
apt_private() {
	local a=$1 arch=${arch:-$(dpkg --print-architecture)}
	rm -rf "$a"
	mkdir -p "$a/state/lists/partial" "$a/cache/archives/partial" "$a/etc/trusted.gpg.d" \
		"$a/etc/preferences.d" "$a/etc/apt.conf.d" "$a/etc/sources.list.d" "$a/dl" || return 1
	: > "$a/status"
	echo "deb [signed-by=$2] $3 $4 main" > "$a/etc/sources.list"
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
}

# apt_in DIR COMMAND ARGS...: an apt command (apt-get, apt-cache) of the private apt in DIR.
apt_in() {
	local a=$1
	shift
	APT_CONFIG=$a/apt.conf "$@"
}

# apt_update DIR: apt-get update verifies the Release signature and the indices; no warning either
# (the log is DIR/update.log).
apt_update() {
	apt_in "$1" apt-get update > "$1/update.log" 2>&1 && ! grep -Eq '^(W|E):' "$1/update.log"
}

# apt_install DIR SCRATCH PACKAGE...: apt-get install -y into the scratch root SCRATCH (made here), dpkg
# pointed at it and apt at its status file (the log is DIR/install.log).
apt_install() {
	local a=$1 scratch=$2
	shift 2
	mkdir -p "$scratch/var/lib/dpkg/info" "$scratch/var/lib/dpkg/updates" && : > "$scratch/var/lib/dpkg/status" &&
		apt_in "$a" apt-get install -y -o Dir::State::status="$scratch/var/lib/dpkg/status" \
			-o DPkg::Options::="--root=$scratch" "$@" > "$a/install.log" 2>&1
}
