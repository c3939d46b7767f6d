#!/bin/bash
# apt-data.sh - fetch real Debian indices through apt itself, in a private apt setup, and cache them.
#
#   tests/lib/apt-data.sh ROOT ARCH [SUITE]
#
# Makes ROOT/apt-ARCH-SUITE/ with its own apt.conf, sources.list, state and an empty dpkg status,
# runs `apt-get update` there (the host's apt setup is untouched), and prints the path of the
# downloaded Packages index. The archive URL is the one the host's apt already uses (read from
# /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list). Re-runs within a day reuse the cache.
# Source this file's `apt_env ROOT ARCH SUITE` to get APT_CONFIG for running apt-get yourself.
set -euo pipefail

archive_uri() {
	local f uri=""
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		# the first deb822 stanza that serves the plain release (not -security, not -updates)
		uri=$(awk -v RS= '/(^|\n)Types:[^\n]*deb/ && /(^|\n)Suites:[^\n]*[ \t](bookworm|trixie|bullseye)([ \t]|$|\n)/ && !/debian-security/ {
			if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { s = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", s); print s; exit } }' "$f")
		[ -n "$uri" ] && break
	done
	if [ -z "$uri" ] && [ -e /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /:\/\//) { print $i; exit } }' /etc/apt/sources.list | grep -v security | head -n1 || true)
	fi
	[ -n "$uri" ] || { echo "apt-data.sh: no Debian archive found in the host's apt sources" >&2; return 1; }
	echo "${uri%/}"
}

# apt_env ROOT ARCH SUITE: write the private configuration and export APT_CONFIG.
apt_env() {
	local root=$1 arch=$2 suite=${3:-bookworm}
	local d="$root/apt-$arch-$suite"
	mkdir -p "$d"/etc/apt.conf.d "$d"/etc/preferences.d "$d"/etc/sources.list.d \
		"$d"/state/lists/partial "$d"/cache/archives/partial "$d"/log
	[ -e "$d/status" ] || : > "$d/status"
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	echo "deb [arch=$arch signed-by=$keyring] $(archive_uri) $suite main" > "$d/etc/sources.list"
	cat > "$d/apt.conf" <<CONF
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
APT::Sandbox::User "root";
APT::Install-Recommends "false";
Dir::State "$d/state";
Dir::State::status "$d/status";
Dir::Cache "$d/cache";
Dir::Log "$d/log";
Dir::Etc::main "$d/apt.conf";
Dir::Etc::Parts "$d/etc/apt.conf.d";
Dir::Etc::SourceList "$d/etc/sources.list";
Dir::Etc::SourceParts "$d/etc/sources.list.d";
Dir::Etc::Preferences "$d/etc/preferences";
Dir::Etc::PreferencesParts "$d/etc/preferences.d";
Acquire::Languages "none";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
Acquire::GzipIndexes "false";
CONF
	export APT_CONFIG="$d/apt.conf"
	APT_DATA_DIR=$d
}

apt_packages_path() {
	local f
	for f in "$APT_DATA_DIR"/state/lists/*_dists_"$2"_main_binary-"$1"_Packages; do
		[ -e "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	root=${1:?usage: apt-data.sh ROOT ARCH [SUITE]} arch=${2:?usage: apt-data.sh ROOT ARCH [SUITE]}
	suite=${3:-bookworm}
	apt_env "$root" "$arch" "$suite"
	stamp="$APT_DATA_DIR/updated"
	if ! apt_packages_path "$arch" "$suite" >/dev/null || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ] || [ ! -e "$stamp" ]; then
		apt-get -q update >&2
		touch "$stamp"
	fi
	apt_packages_path "$arch" "$suite"
fi
