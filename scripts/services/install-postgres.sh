#!/usr/bin/env bash
# Install PostgreSQL's server binaries from Debian, for the tests that reflect a real
# database. Idempotent: when an initdb is already there this only prints its folder.
#
#   bash scripts/services/install-postgres.sh      # prints the bin folder on stdout
#
# The tests never use the distribution's own cluster: tests/services/postgres.py runs
# initdb into a temporary folder and starts that cluster on a free port of 127.0.0.1.
set -euo pipefail

log() { echo "install-postgres: $*" >&2; }

newest_bin() {
    # The newest installed major version's bin folder, or nothing.
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$found" ]] && dirname "$found"
}

if bin="$(newest_bin)"; then
    echo "$bin"
    exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
    log "PostgreSQL is not installed and installing it needs root: apt-get install postgresql"
    exit 1
fi

# One installer at a time (two pytest sessions may start cold together).
exec 9>/var/lock/pitfalls-install-postgres.lock
flock --timeout 900 9
if bin="$(newest_bin)"; then
    echo "$bin"
    exit 0
fi

# Start no service while installing: the tests run a cluster of their own, and the
# package would otherwise start the distribution's on port 5432.
policy=/usr/sbin/policy-rc.d
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
fi

started=$SECONDS
log "installing postgresql with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends postgresql >&2
bin="$(newest_bin)" || { log "apt-get installed postgresql but no initdb is under /usr/lib/postgresql"; exit 1; }
log "done in $((SECONDS - started)) s: $bin"
echo "$bin"
