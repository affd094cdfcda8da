#!/usr/bin/env bash
# Builds the self-contained .vsix of one platform: pitfalls and its dependencies installed by pip
# into bundled/libs/cp3XX, one folder per CPython version (libcst, pydantic-core, msgspec, PyYAML and
# SQLAlchemy have compiled parts, so a bundle is per platform and per Python ABI), next to
# bundled/launch.py, which runs them isolated from the interpreter's own packages; then
# `vsce package --target`. Needs python3 with pip, `npm ci` done, and PyPI: nothing else.
#
#   scripts/build-vsix.sh [PITFALLS_WHEEL]     default: a wheel built from this checkout
#
#   VSIX_TARGET      linux-x64 (default), linux-arm64, alpine-x64, darwin-x64, darwin-arm64,
#                    win32-x64: pip fetches any platform's wheels from any machine, so each
#                    builds here, but only a build for this machine's platform is run before
#                    it is packaged (linux-x64 is the one built and tested here, in CI).
#   PYTHON_VERSIONS  the CPython versions bundled, default "3.11 3.12 3.13"
#   OUT_DIR          where the .vsix goes, default the repository's dist/
#   PYTHON           the python that runs pip, default python3
set -euo pipefail

extension_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo_root="$(dirname "$extension_root")"
target="${VSIX_TARGET:-linux-x64}"
versions=(${PYTHON_VERSIONS:-3.11 3.12 3.13})
out_dir="${OUT_DIR:-$repo_root/dist}"
python="${PYTHON:-python3}"
libs="$extension_root/bundled/libs"

log() { printf 'build-vsix: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# pip's tags for a VS Code target. VS Code needs glibc 2.28 on Linux and macOS 11; pip (23.x)
# widens a macosx tag to older macOS versions itself, but not manylinux_2_28 to older glibcs.
platforms=()
case "$target" in
    linux-x64 | linux-arm64)
        arch=$([ "$target" = linux-x64 ] && echo x86_64 || echo aarch64)
        for glibc in $(seq 28 -1 17); do platforms+=("manylinux_2_${glibc}_${arch}"); done
        platforms+=("manylinux2014_${arch}") ;;
    alpine-x64) platforms=(musllinux_1_2_x86_64 musllinux_1_1_x86_64) ;;
    darwin-x64) platforms=(macosx_11_0_x86_64) ;;
    darwin-arm64) platforms=(macosx_11_0_arm64) ;;
    win32-x64) platforms=(win_amd64) ;;
    *) die "unknown VSIX_TARGET '$target' (linux-x64, linux-arm64, alpine-x64, darwin-x64, darwin-arm64, win32-x64)" ;;
esac

host_target() {
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64) [ -e /etc/alpine-release ] && echo alpine-x64 || echo linux-x64 ;;
        Linux-aarch64) echo linux-arm64 ;;
        Darwin-x86_64) echo darwin-x64 ;;
        Darwin-arm64) echo darwin-arm64 ;;
        *) echo unknown ;;
    esac
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

wheel="${1:-}"
if [ -z "$wheel" ]; then
    log "building the pitfalls wheel"
    "$python" -m pip wheel --no-deps --quiet --wheel-dir "$work/wheel" "$repo_root" >&2
    wheel="$(ls "$work"/wheel/pitfalls-*.whl)"
fi
[ -f "$wheel" ] || die "no such wheel: $wheel"

rm -rf "$libs"
for version in "${versions[@]}"; do
    abi="cp${version/./}"
    log "bundling $(basename "$wheel") for $target, CPython $version"
    # --no-compile: pip would compile with its own Python, not the one the folder is for
    "$python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-warn-conflicts --no-compile \
        --target "$libs/$abi" --only-binary=:all: --implementation cp --python-version "$version" \
        --abi "$abi" "${platforms[@]/#/--platform=}" "$wheel" >&2
    rm -rf "$libs/$abi/bin" # console scripts with pip's python in their shebang: unused
done

# Run what was bundled, isolated as the extension runs it, on a file with a known finding.
if [ "$target" = "$(host_target)" ]; then
    printf 'import requests\nrequests.get(url)\n' >"$work/probe.py"
    for version in "${versions[@]}"; do
        if ! "python$version" -c '' 2>/dev/null; then
            log "not run with CPython $version: no python$version on PATH"
            continue
        fi
        # -B: no __pycache__ of the machine's Pythons in the package
        found="$(cd "$work" && "python$version" -B -I -S "$extension_root/bundled/launch.py" check --no-cache probe.py || true)"
        grep -q PF103 <<<"$found" || die "the bundle for CPython $version does not work: $found"
        log "the bundle runs with $("python$version" --version)"
    done
else
    log "not run: built for $target on $(host_target)"
fi

cd "$extension_root"
version="$(node -p 'require("./package.json").version')"
mkdir -p "$out_dir"
vsix="$out_dir/pitfalls-$target-$version.vsix"
# vsce runs `vscode:prepublish` first: the production build of dist/extension.js. README links
# stay relative: they open inside VS Code, from the installed extension. No secret scan: it
# reads every file of the bundled libraries (a minute and a half), and none of the package's
# own files (extension.js, package.json, README, CHANGELOG, LICENSE, launch.py) holds one.
# No repository URL: the project has no public home yet, and no link may point nowhere.
npx --no-install vsce package --no-dependencies --no-rewrite-relative-links --allow-package-all-secrets --allow-missing-repository \
    --target "$target" --out "$vsix" >&2
log "$vsix ($(du -h "$vsix" | cut -f1))"
