#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the HTML report screenshot test (stats/screenshot_test.go).
# Idempotent: does nothing when a chromium binary is already on PATH. Needs root (CI and dev machines run as root).
set -euo pipefail
for b in chromium chromium-browser; do
	if command -v "$b" >/dev/null 2>&1; then
		echo "install-chromium: $b already installed ($(command -v "$b"))"
		exit 0
	fi
done
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
$SUDO apt-get update -qq
# fonts-dejavu-core gives the screenshots real glyphs; chromium alone may render text as boxes.
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium >/dev/null
echo "install-chromium: installed $(chromium --version 2>/dev/null || echo chromium)"
