#!/usr/bin/env bash
# Render OUT/stats.json (or a stats.json) as the HTML report and screenshot it with headless Chromium, to look
# at the charts without a desktop browser.
#   scripts/screenshot-report.sh OUT [report.png] [height-px]
# Needs chromium (scripts/install-chromium.sh). The page is opened from a local file; Chromium's network
# features are switched off.
set -euo pipefail
if [ $# -lt 1 ]; then
	echo "usage: $0 OUT|stats.json [report.png] [height-px]" >&2
	exit 2
fi
src=$(realpath "$1")
png=$(realpath -m "${2:-report.png}")
height=${3:-6000}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go run ./cmd/orcaprep stats "$src" --format html --output "$tmp/report.html")
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
	--disable-component-update --disable-sync --disable-extensions --hide-scrollbars --force-device-scale-factor=1 \
	--user-data-dir="$tmp/profile" --window-size="1100,$height" --screenshot="$png" "file://$tmp/report.html" 2>/dev/null
echo "wrote $png (1100x$height)"
