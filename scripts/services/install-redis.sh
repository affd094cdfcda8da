#!/usr/bin/env bash
# Install redis-server from Debian, for the tests of `pitfalls doctor`'s Redis checks.
# Idempotent: when redis-server passes its check (the packages owning it are fully
# installed, and the version it prints is the version of its package) this only prints its path.
#
#   bash scripts/services/install-redis.sh      # prints the redis-server path on stdout
#
# The tests never use the distribution's own service: tests/services/redis.py starts
# redis-server in a temporary folder on a free port of 127.0.0.1, without persistence.
# Survives a killed run: a half-configured package is finished (`dpkg --configure -a`) and
# installed again, and the no-service policy a killed run left behind is removed. Sourced,
# it only defines its functions.
set -euo pipefail

readonly SERVER=/usr/bin/redis-server
readonly POLICY_TEXT='#!/bin/sh
# install-redis.sh: start no service while installing
exit 101'

source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"

log() { echo "install-redis: $*" >&2; }

owners() {
    # The packages owning file $1, one a line.
    dpkg-query -S "$1" 2>/dev/null | cut -d: -f1 | tr ',' '\n' | sed 's/^ *//' | sort -u
}

upstream_version() {
    # Package $1's version as the program prints it: no epoch (5:), no Debian revision (-1~deb12u1).
    local version
    version="$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null)" || return 1
    version="${version#*:}"
    echo "${version%%-*}"
}

server_ok() {
    # redis-server and the packages owning its binary are fully installed, and it prints the
    # version its package has (not a leftover binary of another install).
    local pkg version
    for pkg in $({ owners "$(readlink -f "$SERVER")"; owners "$SERVER"; echo redis-server; } | sort -u); do
        [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] || return 1
    done
    version="$(upstream_version redis-server)" && [[ -n "$version" ]] &&
        [[ "$("$SERVER" --version 2>/dev/null)" == "Redis server v=$version "* ]]
}


[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0

if server_ok; then
    echo "$SERVER"
    exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
    log "redis-server is missing or broken and installing it needs root: apt-get install redis-server"
    exit 1
fi

hold_install_lock redis
if server_ok; then
    echo "$SERVER"
    exit 0
fi

started=$SECONDS
prepare_apt
log "installing redis-server with apt-get"
apt-get update -qq >&2
# --reinstall: a package a killed run left with missing or broken files is fetched again.
apt-get install -y -qq --no-install-recommends --reinstall redis-server redis-tools >&2
server_ok || { log "apt-get installed redis-server but $SERVER does not print its package's version"; exit 1; }
log "done in $((SECONDS - started)) s: $("$SERVER" --version)"
echo "$SERVER"
