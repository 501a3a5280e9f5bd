#!/usr/bin/env bash
# Install the Debian packages the test suite talks to, when they are missing.
# Needs root (or sudo). Fails loudly when a package cannot be installed.
set -euo pipefail

# package -> a file that proves it is installed
declare -A PROVES=(
    [redis-server]=/usr/bin/redis-server
    [redis-tools]=/usr/bin/redis-cli
    [wrk]=/usr/bin/wrk
)

missing=()
for pkg in "${!PROVES[@]}"; do
    [ -e "${PROVES[$pkg]}" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "system-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "system-deps: need root to install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for pkg in "${missing[@]}"; do
    [ -e "${PROVES[$pkg]}" ] || { echo "system-deps: $pkg installed but ${PROVES[$pkg]} is missing" >&2; exit 1; }
done
