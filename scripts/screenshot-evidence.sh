#!/usr/bin/env bash
# Renders the evidence pack's page in headless Chromium to a PNG, to look at the matrix at a
# glance: scripts/screenshot-evidence.sh [pack dir] [out.png]. Needs Debian's chromium
# (apt-get install chromium); the flags keep it off the network. HEIGHT sets the page height.
set -euo pipefail
pack="${1:-target/evidence}"
out="${2:-$pack/evidence.png}"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size=1400,${HEIGHT:-2200} \
  --screenshot="$(realpath -m "$out")" "file://$(realpath "$pack")/evidence.html" 2>/dev/null
echo "$out"
