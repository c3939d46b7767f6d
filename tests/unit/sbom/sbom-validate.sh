#!/bin/bash
# sbom-validate.sh - the SBOMs checked by real validators (TAP): CycloneDX 1.5 by the strict JSON validator of
# the npm package @cyclonedx/cyclonedx-library, license expressions by spdx-expression-parse, for the fixture
# packages and for the real bookworm .debs cached in /var/cache/debkeep-test/debs (when present); and every
# /usr/share/doc/*/copyright of this machine through dk_copyright_license (none may be an error).
#
#   sbom-validate.sh SBOM-TOOL SRCDIR FIXTURES
#
# The npm packages are installed with npm into /var/cache/debkeep-test/npm (cached); without node, npm or the
# registry the validator checks are skipped, not failed.
set -uo pipefail

tool=$1 srcdir=$2 fixtures=$3
cache=${DEBKEEP_TEST_CACHE:-/var/cache/debkeep-test}
npmdir=$cache/npm
debs=$cache/debs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
check() { local what=$1; shift; if "$@" >"$work/out" 2>&1; then ok "$what"; else not_ok "$what"; sed 's/^/# /' "$work/out" | head -40; fi; }

validators=""
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	validators="node or npm not installed"
else
	mkdir -p "$npmdir"
	[ -f "$npmdir/package.json" ] || echo '{ "private": true }' >"$npmdir/package.json"
	if ! (cd "$npmdir" && node -e 'require("@cyclonedx/cyclonedx-library"); require("ajv"); require("ajv-formats");
			require("ajv-formats-draft2019"); require("spdx-expression-parse")' 2>/dev/null); then
		# Few retries: npm otherwise keeps retrying an unreachable registry for many minutes.
		(cd "$npmdir" && timeout 300 npm install --no-audit --no-fund --loglevel=error --fetch-retries=1 \
			--fetch-timeout=30000 @cyclonedx/cyclonedx-library ajv ajv-formats ajv-formats-draft2019 \
			spdx-expression-parse) >"$work/npm.log" 2>&1 ||
			validators="npm install failed (registry unreachable?): $(grep -m1 "npm error" "$work/npm.log" ||
				echo "timed out")"
	fi
fi
export NODE_PATH=$npmdir/node_modules

# validate NAME PACKAGES CODENAME: both SBOMs of one package set, validated, and generated twice alike.
validate() {
	local name=$1 pkgs=$2 codename=$3
	if ! "$tool" cdx "$pkgs" "$name" 1700000000 "$codename" >"$work/$name.cdx.json" 2>"$work/err" ||
	   ! "$tool" spdx "$pkgs" "$name" 1700000000 "$codename" >"$work/$name.spdx.json" 2>>"$work/err"; then
		not_ok "$name: SBOMs generated"; sed 's/^/# /' "$work/err"; return
	fi
	ok "$name: SBOMs generated ($(grep -c '"bom-ref": "pkg:' "$work/$name.cdx.json") packages)"
	"$tool" cdx "$pkgs" "$name" 1700000000 "$codename" | cmp -s - "$work/$name.cdx.json" &&
		"$tool" spdx "$pkgs" "$name" 1700000000 "$codename" | cmp -s - "$work/$name.spdx.json" &&
		ok "$name: generated again, byte-identical" || not_ok "$name: generated again, byte-identical"
	if [ -n "$validators" ]; then
		skip "$name: CycloneDX validator: $validators"
		skip "$name: SPDX license expressions: $validators"
		return
	fi
	check "$name: CycloneDX 1.5 strict JSON validator accepts it" node "$srcdir/validate.js" cdx "$work/$name.cdx.json"
	check "$name: SPDX license expressions parse" node "$srcdir/validate.js" spdx "$work/$name.spdx.json"
}

validate fixture "$fixtures/packages" bookworm

# The validator must be able to say no: a CycloneDX file with a broken hash.
if [ -z "$validators" ]; then
	sed 's/"alg": "SHA-256"/"alg": "SHA-257"/' "$work/fixture.cdx.json" >"$work/broken.cdx.json"
	if node "$srcdir/validate.js" cdx "$work/broken.cdx.json" >/dev/null 2>&1; then
		not_ok "the validator rejects a broken document"
	else
		ok "the validator rejects a broken document"
	fi
else
	skip "the validator rejects a broken document: $validators"
fi

# Real packages: the cached bookworm .debs, their control fields and their own debian/copyright.
if compgen -G "$debs/*.deb" >/dev/null; then
	: >"$work/real"
	for deb in "$debs"/*.deb; do
		fields=$(dpkg-deb -f "$deb" Package Version Architecture Source Maintainer Homepage Description) || continue
		pkg=$(sed -n 's/^Package: //p' <<<"$fields")
		{
			# Description's first line only: its continuation lines start with a blank.
			grep -v '^ ' <<<"$fields"
			echo "SHA256: $(sha256sum <"$deb" | cut -d' ' -f1)"
			if dpkg-deb --fsys-tarfile "$deb" | tar -xOf - --occurrence=1 "./usr/share/doc/$pkg/copyright" \
				>"$work/$pkg.copyright" 2>/dev/null && [ -s "$work/$pkg.copyright" ]; then
				echo "Copyright-File: $work/$pkg.copyright"
			fi
			echo
		} >>"$work/real"
	done
	validate real-bookworm "$work/real" bookworm
	"$tool" license "$work"/*.copyright >"$work/real-licenses"
	echo "# real .debs: $(grep -c '	OK	' "$work/real-licenses") DEP-5, $(grep -c '	NOTDEP5' "$work/real-licenses") not" \
		"machine-readable, of $(ls "$debs"/*.deb | wc -l) packages"
else
	skip "real .debs: none cached in $debs"
fi

# Every copyright file of this machine: not one may be an error.
if compgen -G "/usr/share/doc/*/copyright" >/dev/null; then
	"$tool" license /usr/share/doc/*/copyright >"$work/licenses"
	echo "# /usr/share/doc: $(grep -c '	OK	' "$work/licenses") DEP-5, $(grep -c '	NOTDEP5' "$work/licenses")" \
		"not machine-readable, $(grep -c '	ERR	' "$work/licenses") errors"
	if grep -q '	ERR	' "$work/licenses"; then
		not_ok "every /usr/share/doc/*/copyright parses"; grep '	ERR	' "$work/licenses" | head | sed 's/^/# /'
	else
		ok "every /usr/share/doc/*/copyright parses"
	fi
else
	skip "no /usr/share/doc/*/copyright on this machine"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
