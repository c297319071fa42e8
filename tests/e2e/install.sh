#!/usr/bin/env bash
# Installs what the browser tests use, when it is missing: Debian's chromium, Japanese fonts
# (without them screenshots show boxes) and a Java runtime (for the Nu HTML Checker) with apt-get,
# and the npm packages pinned in package-lock.json. Install scripts are skipped: vnu-jar's would
# download a Java runtime. Run by .ci/run and by tests/browser.rs, so `cargo test` works alone.
set -euo pipefail
cd "$(dirname "$0")"

packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
[ -n "$(fc-list :lang=ja 2>/dev/null)" ] || packages+=(fonts-noto-cjk)
java -version >/dev/null 2>&1 || packages+=(default-jre-headless)
if [ "${#packages[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund
fi
