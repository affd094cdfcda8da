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

remove_leftover_policy() {
    # Policy file $1, if a killed run left it: it would keep every service on the machine from starting.
    if [[ -f "$1" && "$(cat "$1")" == "$POLICY_TEXT" ]]; then
        rm -f "$1"
    fi
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

# One installer at a time (two pytest sessions may start cold together).
exec 9>/var/lock/pitfalls-install-postgres.lock
flock --timeout 900 9
if bin="$(newest_bin)" && bin_ok "$bin"; then
    echo "$bin"
    exit 0
fi

# Start no service while installing: the tests run a cluster of their own, and the
# package would otherwise start the distribution's on port 5432.
policy=/usr/sbin/policy-rc.d
remove_leftover_policy "$policy"
if [[ ! -e "$policy" ]]; then
    echo "$POLICY_TEXT" >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
fi

started=$SECONDS
export DEBIAN_FRONTEND=noninteractive
dpkg --configure -a >&2   # finish what a killed apt-get left half-configured
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
