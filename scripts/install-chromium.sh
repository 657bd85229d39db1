#!/usr/bin/env bash
# Install the tools the report tests use (report/screenshot_test.go, report/gfm_test.go):
#   chromium    Debian's headless-capable Chromium, to screenshot the HTML report
#   cmark-gfm   GitHub's Markdown renderer, to check that the Markdown report renders as tables
# Idempotent: installs only what is missing. Needs root (CI and dev machines run as root) or sudo.
set -euo pipefail
need=()
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
	# fonts-dejavu-core gives the screenshots real glyphs; chromium alone may render text as boxes.
	need+=(chromium fonts-dejavu-core)
fi
if ! command -v cmark-gfm >/dev/null 2>&1; then
	need+=(cmark-gfm)
fi
if [ ${#need[@]} -eq 0 ]; then
	echo "install-chromium: chromium and cmark-gfm already installed"
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
echo "install-chromium: apt-get install ${need[*]} (a minute or two)"
$SUDO "$(dirname "$0")/wait-apt-lock.sh"
lock_wait=(-o "DPkg::Lock::Timeout=${ORCAPREP_APT_LOCK_TIMEOUT:-600}")
$SUDO apt-get "${lock_wait[@]}" update -qq
$SUDO apt-get "${lock_wait[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
command -v chromium >/dev/null
command -v cmark-gfm >/dev/null
echo "install-chromium: installed ${need[*]}"
