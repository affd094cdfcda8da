"""The environment variables a project defines outside its Python code (for PF701).

Read once per configuration, never executed: ``.env`` files (``.env``, ``.env.example``,
``.env.*``, ``*.env``) as dotenv lines (commented-out ``# NAME=`` lines count: they document
the variable), the files a compose file's ``env_file:`` names, and, token by token, compose
files, Dockerfiles (``ENV``/``ARG``), CI files (``.github/workflows/*.yml``,
``.gitlab-ci.yml``) and Kubernetes/Helm YAML. Any word of those files counts as defined: a
line scan cannot tell ``environment:`` keys from the rest, and a name that appears there is
one a reader would not call "defined nowhere" (Helm templates are not YAML either).

The walk starts at the repository holding the configuration (the nearest folder above with
``.git``, else the configuration's own folder): a service's ``docker-compose.yml`` and CI
files often sit at the repository root. It skips hidden folders (but the CI ones),
virtual environments and ``node_modules``, and stops after a fixed number of entries.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pitfalls.project.files import UnreadableFile, read_bounded

_MAX_MB = 1.0  # per file: env and deployment files are small
_MAX_ENTRIES = 20_000  # folder entries looked at, per walk
_MAX_DEPTH = 8
_DOTENV = re.compile(r"^\s*#?\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_FILE = re.compile(r"^[ \t]*env_file:[ \t]*(.*)$((?:\n[ \t]*-[ \t]*.+$)*)", re.MULTILINE)
_SKIP = frozenset({"node_modules", "__pycache__", "site-packages"})
_CI_FOLDERS = frozenset({".github", ".gitlab", ".circleci"})
_K8S_FOLDERS = frozenset({"k8s", "kubernetes", "helm", "charts", "chart", "deploy", "deployment", "manifests", "kustomize"})


def environment_names(root: Path) -> tuple[str, ...] | None:
    """The sorted names the env, compose, Docker, CI and Kubernetes files of ``root``'s
    repository define; None when it has none of those files (then "defined nowhere" says
    nothing)."""
    top = _repository(root)
    names: set[str] = set()
    found = False
    for path, kind in _sources(top):
        try:
            text = read_bounded(path, _MAX_MB).decode("utf-8", errors="replace")
        except UnreadableFile:
            continue
        found = True
        if kind == "dotenv":
            names.update(_DOTENV.findall(text))
            continue
        names.update(_WORD.findall(text))
        if kind == "compose":
            for listed in _env_files(text):
                try:
                    data = read_bounded(path.parent / listed, _MAX_MB).decode("utf-8", errors="replace")
                except UnreadableFile:
                    continue
                names.update(_DOTENV.findall(data))
    return tuple(sorted(names)) if found else None


# What the language server watches for these files (the events are then judged by
# :func:`is_environment_file`: Kubernetes YAML can be any YAML).
WATCHED_PATTERNS = (
    ".env", ".env.*", "*.env", ".envrc", "*.yml", "*.yaml",
    "Dockerfile*", "dockerfile*", "Containerfile*", "containerfile*", "*.dockerfile",
)


def is_environment_file(path: str) -> bool:
    """Whether :func:`environment_names` reads ``path`` (as its name and folders say)."""
    folder = Path(os.path.dirname(os.path.abspath(path)))
    in_k8s = any(part in _K8S_FOLDERS for part in folder.parts) or (folder / "Chart.yaml").is_file()
    return _kind(os.path.basename(path), folder, in_k8s) is not None


def _repository(root: Path) -> Path:
    for folder in [root, *root.parents]:
        if (folder / ".git").exists():
            return folder
    return root


def _sources(top: Path):
    """(path, kind) of every env source below ``top``: "dotenv", "compose" or "words"."""
    seen = 0
    stack: list[tuple[Path, int, bool]] = [(top, 0, False)]
    while stack:
        folder, depth, in_k8s = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        if any(e.name == "pyvenv.cfg" for e in entries):
            continue  # a virtual environment
        in_k8s = in_k8s or folder.name in _K8S_FOLDERS or any(e.name == "Chart.yaml" for e in entries)
        for entry in entries:
            seen += 1
            if seen > _MAX_ENTRIES:
                return
            name = entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if depth < _MAX_DEPTH and name not in _SKIP and (not name.startswith(".") or name in _CI_FOLDERS):
                    stack.append((Path(entry.path), depth + 1, in_k8s))
                continue
            if not is_file:
                continue
            kind = _kind(name, folder, in_k8s)
            if kind is not None:
                yield Path(entry.path), kind


def _kind(name: str, folder: Path, in_k8s: bool) -> str | None:
    lower = name.lower()
    yaml = lower.endswith((".yml", ".yaml"))
    if lower in (".env", ".envrc") or lower.startswith(".env.") or lower.endswith(".env"):
        return "dotenv"
    if yaml and (lower.startswith("docker-compose") or lower.startswith("compose")):
        return "compose"
    if lower.startswith(("dockerfile", "containerfile")) or lower.endswith(".dockerfile"):
        return "words"
    if lower == ".gitlab-ci.yml" or (yaml and folder.name == "workflows" and folder.parent.name == ".github"):
        return "words"
    if yaml and in_k8s:
        return "words"
    return None


def _env_files(text: str) -> list[str]:
    """The paths a compose file's ``env_file:`` entries name (a string or a list)."""
    found = []
    for inline, items in _ENV_FILE.findall(text):
        values = [inline] if inline.strip() else []
        values += [line.split("-", 1)[1] for line in items.splitlines() if line.strip()]
        for value in values:
            value = value.split("#", 1)[0].strip().removeprefix("path:").strip().strip("'\"[]")
            if value and "$" not in value and not value.startswith("required:"):
                found.append(value)
    return found
