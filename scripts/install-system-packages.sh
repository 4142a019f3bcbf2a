#!/bin/sh
# Debian packages the app needs. Installs only what is missing; needs root (or sudo).
set -eu
# chromium: page captures and browser tests; libpango: WeasyPrint; Noto fonts: Latin, Chinese and Japanese glyphs in PDFs; poppler-utils: tests read PDFs.
PACKAGES="python3-venv libmagic1 gettext libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-core fonts-noto-cjk poppler-utils chromium"
missing=""
for package in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
[ -z "$missing" ] && exit 0
echo "Installing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
