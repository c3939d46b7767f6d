#!/bin/bash
# diff-html.sh - the --html report in a real browser (Debian's chromium, headless), as TAP:
# the page renders, the verdict and the summary table are in the rendered DOM, a screenshot is a
# non-empty PNG, and the page asks for nothing outside itself.
#   diff-html.sh DEBKEEP FIXTURES
set -u
bin=$1
fixtures=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/debkeep-html.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "1..0 # SKIP no chromium (apt-get install chromium)"
	exit 0
fi
n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
# Headless chromium as root needs --no-sandbox; its own profile keeps it off the user's.
chrome() {
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$tmp/profile" \
		--window-size=1200,1600 "$@" 2>"$tmp/chromium.log"
}

"$bin" diff --html "$tmp/report.html" "$fixtures/diff/image-a.tar.gz" "$fixtures/diff/image-b.tar.xz" >/dev/null
[ $? = 1 ] && [ -s "$tmp/report.html" ]
ok $? "debkeep diff --html wrote the page (exit 1: differences)"
! grep -Eiq '(src|href)="(https?:)?//|@import|url\(' "$tmp/report.html"
ok $? "self-contained: no external assets"

chrome --dump-dom "file://$tmp/report.html" >"$tmp/dom.html"
grep -q 'id="verdict"' "$tmp/dom.html" && grep -q 'verdict: different: /var/log' "$tmp/dom.html"
ok $? "the rendered page shows the verdict"
grep -q '<table id="summary">' "$tmp/dom.html" && grep -q '<td>SSH host keys</td><td>2</td><td>2</td><td>openssh-server (postinst)</td>' "$tmp/dom.html"
ok $? "the summary table is rendered with the counts per cause"
grep -q '<details' "$tmp/dom.html" && grep -q 'ssh_host_ed25519_key' "$tmp/dom.html"
ok $? "the collapsible tree holds the differing paths"

chrome --screenshot="$tmp/shot.png" "file://$tmp/report.html" >/dev/null
size=$(stat -c %s "$tmp/shot.png" 2>/dev/null || echo 0)
[ "$size" -gt 5000 ] && [ "$(head -c 8 "$tmp/shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
ok $? "a screenshot is a non-empty PNG ($size bytes)"
[ -z "${DEBKEEP_KEEP_SHOT:-}" ] || cp "$tmp/shot.png" "$DEBKEEP_KEEP_SHOT"

echo "1..$n"
[ "$failed" = 0 ]
