"""The package's layers, checked from its source: imports point down, the language server
does its jobs with the functions the CLI uses, and no module grows past what a reader holds.

core (text -> diagnostics) < rules < project (files, cache, workers, the run) < sources
(Directus, databases) < lsp < cli. The CLI may start the language server; nothing below
the CLI imports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pitfalls
import pytest

PACKAGE = Path(pitfalls.__file__).resolve().parent
LAYERS = ["core", "rules", "project", "sources", "lsp", "cli"]
MAX_LINES = 600
# The functions that check a text, fix it, or find and configure the files: the editor
# must reach them only through what the CLI (or the run the CLI starts) also calls.
JOBS = {
    "pitfalls.core.check": {"check_parsed", "parse_file"},
    "pitfalls.core.fixes": {"apply_fixes", "fix_until_stable"},
    "pitfalls.project.run": {"check_files", "check_paths", "rules_for", "project_files"},
    "pitfalls.project.config": {"load_config", "apply_overrides", "ConfigResolver"},
    "pitfalls.project.discovery": {"discover"},
    "pitfalls.sources.load": {"load_schemas", "load_each"},
}
# Conveniences for one text, made of the jobs above and nothing else.
COMPOSED = {
    ("pitfalls.core.check", "check_text"): {"parse_file", "check_parsed"},
    ("pitfalls.core.fixes", "fix_text"): {"fix_until_stable"},
}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        found[".".join(("pitfalls", *parts)).removesuffix(".__init__")] = path
    return found


def layer(module: str) -> int | None:
    """The layer of a module (None for the package root: ``__version__`` and ``__main__``)."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


def imports(path: Path) -> list[tuple[str, set[str]]]:
    """(module imported, names taken from it) for every pitfalls import, nested ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pitfalls") and node.level == 0:
            found.append((node.module, {alias.name for alias in node.names}))
            found.extend((f"{node.module}.{alias.name}", set()) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, set()) for alias in node.names if alias.name.startswith("pitfalls"))
    return found


def functions(path: Path) -> set[str]:
    return {n.name for n in ast.parse(path.read_text(encoding="utf-8")).body if isinstance(n, ast.FunctionDef)}


ALL = modules()


@pytest.mark.parametrize("module", sorted(ALL))
def test_imports_point_down(module: str) -> None:
    own = layer(module)
    if own is None:
        return
    for target, _ in imports(ALL[module]):
        if target not in ALL:
            continue  # a name imported from a module, not a module
        other = layer(target)
        assert other is None or other <= own, f"{module} ({LAYERS[own]}) imports {target} ({LAYERS[other]})"


def test_the_editor_does_its_jobs_with_the_functions_the_cli_uses() -> None:
    def used(prefixes: tuple[str, ...]) -> dict[str, set[str]]:
        """Names each module's functions are taken from (a module's own count as used)."""
        names: dict[str, set[str]] = {}
        for module, path in ALL.items():
            if module.startswith(prefixes):
                names.setdefault(module, set()).update(functions(path))
                for target, taken in imports(path):
                    names.setdefault(target, set()).update(taken)
        return names

    editor = used(("pitfalls.lsp", "pitfalls.project.workspace"))
    command_line = used(("pitfalls.cli", "pitfalls.project.run", "pitfalls.project.pool", "pitfalls.project.analyzer"))
    checked = 0
    for module, jobs in JOBS.items():
        composed = {name for (where, name) in COMPOSED if where == module}
        for name in editor.get(module, set()) & (jobs | composed):
            checked += 1
            if name not in composed:
                assert name in command_line.get(module, set()), f"the editor calls {module}.{name}, the CLI does not"
    assert checked >= 4, "the editor no longer calls the shared functions this test knows: update JOBS"


@pytest.mark.parametrize(("module", "function"), sorted(COMPOSED))
def test_one_text_conveniences_only_compose_the_shared_jobs(module: str, function: str) -> None:
    tree = ast.parse(ALL[module].read_text(encoding="utf-8"))
    [definition] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function]
    defined_here = functions(ALL[module])
    called = {n.func.id for n in ast.walk(definition) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert called & defined_here == COMPOSED[(module, function)]


@pytest.mark.parametrize("module", sorted(m for m in ALL if not m.startswith("pitfalls.rules.pf")))
def test_modules_stay_readable(module: str) -> None:
    lines = ALL[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module}: {lines} lines (split it by concern)"
