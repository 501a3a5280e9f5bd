#!/usr/bin/env bash
# Install the Debian packages the test suite talks to, when they are missing.
# Needs root (or sudo). Fails loudly when a package cannot be installed.
set -euo pipefail

# package -> a file that proves it is installed
declare -A PROVES=(
    [redis-server]=/usr/bin/redis-server
    [redis-tools]=/usr/bin/redis-cli
    [wrk]=/usr/bin/wrk
    [postgresql]=/usr/lib/postgresql/15/bin/pg_ctl
    [mariadb-server]=/usr/sbin/mariadbd
    [mariadb-client]=/usr/bin/mariadb
    [etcd-server]=/usr/bin/etcd
    [etcd-client]=/usr/bin/etcdctl
    [golang-go]=/usr/bin/go
    [golang-github-golang-groupcache-dev]=/usr/share/gocode/src/github.com/golang/groupcache/groupcache.go
    [chromium]=/usr/bin/chromium
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

# Servers (postgresql, mariadb, etcd, redis) must not be started by their postinst: the tests start
# their own copies on free ports, and a system service would hold 5432/3306/2379 for nothing.
# Debian's invoke-rc.d asks policy-rc.d; when the machine has none, use one (exit 101 = "do not
# start") for the length of the install and remove it afterwards. An existing one is left alone.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
    trap '$SUDO rm -f "$POLICY"' EXIT
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
fi

# Another apt may hold the dpkg lock (a shared machine): wait for it rather than fail.
APT=($SUDO apt-get -o DPkg::Lock::Timeout=600 -y -qq)
"${APT[@]}" update
"${APT[@]}" install --no-install-recommends "${missing[@]}" >/dev/null
for pkg in "${missing[@]}"; do
    [ -e "${PROVES[$pkg]}" ] || { echo "system-deps: $pkg installed but ${PROVES[$pkg]} is missing" >&2; exit 1; }
done
