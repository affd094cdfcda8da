#!/usr/bin/env bash
# Install PostgreSQL's server binaries from Debian, for the tests that reflect a real
# database. Idempotent: when the newest installed version passes its check (its package is
# fully installed, `postgres --version` and `initdb --version` run) this only prints its folder.
#
#   bash scripts/services/install-postgres.sh      # prints the bin folder on stdout
#
# The tests never use the distribution's own cluster: tests/services/postgres.py runs
# initdb into a temporary folder and starts that cluster on a free port of 127.0.0.1.
# Survives a killed run: dpkg cannot install into a folder and rename it, so a version that
# fails its check is finished (`dpkg --configure -a`) and installed again, and the
# no-service policy a killed run left behind is removed. Sourced (as the tests do), it only
# defines its functions.
set -euo pipefail

readonly POLICY_TEXT='#!/bin/sh
# install-postgres.sh: start no service while installing
exit 101'

source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"

log() { echo "install-postgres: $*" >&2; }

newest_bin() {
    # The newest installed major version's bin folder, or nothing.
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$found" ]] && dirname "$found"
}

bin_ok() {
    # The packages owning bin folder $1 are fully installed and its server binaries run.
    local owners
    owners="$(dpkg-query -S "$1/postgres" "$1/initdb" 2>/dev/null | cut -d: -f1 | tr ',' '\n' | sort -u)" &&
        [[ -n "$owners" ]] &&
        ! dpkg-query -W -f='${Status}\n' $owners | grep -qv '^install ok installed$' &&
        [[ "$("$1/postgres" --version 2>/dev/null)" == "postgres (PostgreSQL) "* ]] &&
        [[ "$("$1/initdb" --version 2>/dev/null)" == "initdb (PostgreSQL) "* ]]
}


[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0

if bin="$(newest_bin)" && bin_ok "$bin"; then
    echo "$bin"
    exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
    log "PostgreSQL is missing or broken and installing it needs root: apt-get install postgresql"
    exit 1
fi

hold_install_lock postgres
if bin="$(newest_bin)" && bin_ok "$bin"; then
    echo "$bin"
    exit 0
fi

started=$SECONDS
prepare_apt
packages=(postgresql)
if bin="$(newest_bin)"; then
    # A version whose files a killed run left missing or broken: fetch its packages again.
    read -ra broken <<<"$(dpkg-query -S "$bin/postgres" "$bin/initdb" 2>/dev/null | cut -d: -f1 | tr ',' ' ')"
    packages+=("${broken[@]}")
    log "reinstalling ${packages[*]} with apt-get: $bin fails its check"
else
    log "installing postgresql with apt-get"
fi
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends --reinstall "${packages[@]}" >&2
bin="$(newest_bin)" && bin_ok "$bin" || { log "apt-get installed postgresql but no working initdb and postgres are under /usr/lib/postgresql"; exit 1; }
log "done in $((SECONDS - started)) s: $bin"
echo "$bin"
