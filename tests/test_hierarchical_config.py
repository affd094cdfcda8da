"""Hierarchical configuration, as in Ruff: each file is checked with its nearest
``[tool.pitfalls]`` (a ``pyproject.toml`` without one is skipped), ``extend`` puts another
file under it, relative paths belong to the file that sets them; the CLI (in-process) and
the language server (a real process) resolve it the same way, whatever the paths' order."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pitfalls.project.config import ConfigResolver
from pitfalls.project.discovery import discover
from pitfalls.project.run import CheckResult, check_files, project_files
from pitfalls.sources.load import load_each
from tests.conftest import write_project
from tests.test_server import APP as MODELS  # PF103 on line 10, PF401 on line 14
from tests.test_server import DIRECTUS_MODEL, codes, session  # DIRECTUS_MODEL: PF501 on line 6 (no `references`)

# The root's settings; service a has its own; service b's pyproject.toml only packages it.
# libs/ (under the root's configuration) and service a import each other: an import cycle
# across two configurations, seen only if the index spans the repository.
TWO_SERVICES = {
    "pyproject.toml": "[tool.pitfalls]\nignore = ['PF401']\nexclude = ['services/b/generated']\n",
    "libs/libshared/__init__.py": "",
    "libs/libshared/hub.py": "from app_a import cycle\n",
    "services/a/pyproject.toml": "[project]\nname = 'a'\n\n[tool.pitfalls]\nselect = ['PF3', 'PF4']\n",
    "services/a/app_a/__init__.py": "",
    "services/a/app_a/cycle.py": "from libshared import hub\n",
    "services/a/app_a/models.py": MODELS,
    "services/b/pyproject.toml": "[project]\nname = 'b'\n",
    "services/b/app_b/__init__.py": "",
    "services/b/app_b/models.py": MODELS,
    "services/b/generated/client.py": MODELS,  # excluded by the root's configuration
}
EXPECTED = {
    "services/a/app_a/cycle.py": [("PF301", 1)],
    "services/a/app_a/models.py": [("PF401", 14)],  # a's selection: no PF103
    "services/b/app_b/models.py": [("PF103", 10)],  # the root's: no PF401
}


def by_file(out: str, cwd: Path, root: Path) -> dict[str, list[tuple[str, int]]]:
    """The JSON report's findings as {path relative to ``root``: [(code, line)]}."""
    found: dict[str, list[tuple[str, int]]] = {}
    for d in json.loads(out):
        rel = Path(os.path.relpath(cwd / d["filename"], root)).as_posix()
        found.setdefault(rel, []).append((d["code"], d["location"]["row"]))
    return {path: sorted(items) for path, items in found.items()}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_project(tmp_path, TWO_SERVICES)


def test_each_file_gets_its_nearest_configuration_whatever_the_order_of_the_paths(repo: Path, run_main) -> None:
    def check(*args: str, cwd: Path = repo) -> dict[str, list[tuple[str, int]]]:
        code, out, err = run_main("check", "--output-format", "json", "--no-cache", *args, cwd=cwd)
        assert (code, err) == (1, ""), err
        return by_file(out, cwd, repo)

    services = {path: found for path, found in check(".").items() if path.startswith("services/")}
    assert services == EXPECTED
    assert check("services/a", "services/b") == EXPECTED
    assert check("services/b", "services/a") == EXPECTED
    assert check(".", "../a", cwd=repo / "services" / "b") == EXPECTED
    one_file = check("services/b/app_b/models.py", "services/a/app_a/models.py")
    assert one_file == {path: EXPECTED[path] for path in ("services/a/app_a/models.py", "services/b/app_b/models.py")}
    # The cycle runs through libs/, outside the service checked: the index spans the repository.
    assert check("services/a/app_a/cycle.py") == {"services/a/app_a/cycle.py": [("PF301", 1)]}


def test_the_cache_holds_each_files_own_settings(repo: Path, run_main) -> None:
    first = run_main("check", "--output-format", "json", "services/a", "services/b", cwd=repo)
    assert by_file(first[1], repo, repo) == EXPECTED
    assert (repo / ".pitfalls_cache").is_dir()  # beside the outermost configuration
    assert not (repo / "services" / "a" / ".pitfalls_cache").exists()
    again = run_main("check", "--output-format", "json", "services/b", "services/a", cwd=repo)
    assert by_file(again[1], repo, repo) == EXPECTED
    (repo / "services" / "a" / "pyproject.toml").write_text("[tool.pitfalls]\nselect = ['PF1']\n")
    changed = run_main("check", "--output-format", "json", "services/a", cwd=repo)
    assert by_file(changed[1], repo, repo) == {"services/a/app_a/models.py": [("PF103", 10)]}


def test_command_line_options_go_over_every_files_configuration(repo: Path, run_main) -> None:
    code, out, _ = run_main("check", "--output-format", "json", "--no-cache", "--select", "PF1,PF4", "services", cwd=repo)
    both = [("PF103", 10), ("PF401", 14)]  # --select replaces each file's selection, its ignore too
    assert by_file(out, repo, repo) == {"services/a/app_a/models.py": both, "services/b/app_b/models.py": both}
    code, out, _ = run_main("check", "--output-format", "json", "--no-cache", "--extend-exclude", "app_b", "services", cwd=repo)
    assert by_file(out, repo, repo) == {path: EXPECTED[path] for path in EXPECTED if "/a/" in path}
    # --config: one configuration for every file, as in Ruff.
    code, out, _ = run_main("check", "--output-format", "json", "--no-cache", "--config", "pyproject.toml", "services", cwd=repo)
    assert by_file(out, repo, repo) == {
        "services/a/app_a/cycle.py": [("PF301", 1)],
        "services/a/app_a/models.py": [("PF103", 10)],
        "services/b/app_b/models.py": [("PF103", 10)],
    }


def test_show_settings_names_the_configuration_of_the_file(repo: Path, run_main) -> None:
    code, out, _ = run_main("check", "--show-settings", "services/b/app_b/models.py", cwd=repo)
    assert out.splitlines()[1:3] == [f"Settings path: {repo / 'pyproject.toml'}", f"Project root: {repo}"]
    code, out, _ = run_main("check", "--show-settings", "services/a/app_a/models.py", cwd=repo)
    assert out.splitlines()[1:3] == [f"Settings path: {repo / 'services/a/pyproject.toml'}", f"Project root: {repo / 'services/a'}"]


def test_extend_merges_the_parent_under_the_child(tmp_path: Path, run_main) -> None:
    write_project(tmp_path, {
        "pyproject.toml": (
            "[tool.pitfalls]\nselect = ['PF1', 'PF4']\nignore = ['PF401']\nexclude = ['gen']\nsrc = ['libs']\n"
            "[tool.pitfalls.per-file-ignores]\n'services/a/app/tasks.py' = ['PF103']\n"
        ),
        # extend-select and extend-exclude add to the parent's; the rest is inherited.
        "services/a/pyproject.toml": (
            "[tool.pitfalls]\nextend = '../../pyproject.toml'\nextend-select = ['PF3']\nextend-exclude = ['old']\n"
        ),
        "services/a/app/main.py": MODELS,
        "services/a/app/tasks.py": MODELS,  # the parent's per-file-ignores, relative to the parent
        "services/a/app/gen/x.py": MODELS,
        "services/a/app/old/x.py": MODELS,
        # A child key wins over the parent's: its ignore replaces the parent's.
        "services/c/pitfalls.toml": "extend = '../../pyproject.toml'\nignore = ['PF103']\n",
        "services/c/main.py": MODELS,
    })
    code, out, err = run_main("check", "--output-format", "json", "--no-cache", ".", cwd=tmp_path)
    assert err == ""
    assert by_file(out, tmp_path, tmp_path) == {
        "services/a/app/main.py": [("PF103", 10)],
        "services/c/main.py": [("PF401", 14)],
    }
    code, out, _ = run_main("check", "--show-settings", "services/a/app/main.py", cwd=tmp_path)
    settings = dict(line.split(" = ", 1) for line in out.splitlines() if " = " in line)
    assert json.loads(settings["select"]) == ["PF1", "PF4", "PF3"]
    assert json.loads(settings["exclude"]) == ["gen", "old"]
    assert json.loads(settings["src"]) == [(tmp_path / "libs").as_posix()]  # the parent's folder, not the child's
    assert json.loads(settings["per-file-ignores"]) == {(tmp_path / "services/a/app/tasks.py").as_posix(): ["PF103"]}


def snapshot(fields: list[str]) -> str:
    return json.dumps({"data": {
        "collections": [{"collection": "articles"}],
        "fields": [{"collection": "articles", "field": f, "type": "json" if f == "references" else "string"} for f in fields],
    }})


DIRECTUS = "[tool.pitfalls.directus]\nsnapshot = '{}'\nmodels = {{ Post = 'articles' }}\n"
SCHEMA_SERVICES = {
    "pyproject.toml": "[tool.pitfalls]\n" + DIRECTUS.format("schema/snap.json"),
    "schema/snap.json": snapshot(["id", "title"]),
    "services/a/pyproject.toml": "[tool.pitfalls]\nextend = '../../pyproject.toml'\n",
    "services/a/post.py": DIRECTUS_MODEL,
    "services/b/post.py": DIRECTUS_MODEL,
    # A service with its own schema, relative to its own folder: `references` exists there.
    "services/c/pyproject.toml": "[tool.pitfalls]\n" + DIRECTUS.format("snap.json"),
    "services/c/snap.json": snapshot(["id", "title", "references"]),
    "services/c/post.py": DIRECTUS_MODEL,
}


def test_relative_schema_paths_belong_to_the_file_that_sets_them(tmp_path: Path, run_main) -> None:
    write_project(tmp_path, SCHEMA_SERVICES)
    code, out, err = run_main("check", "--output-format", "json", "--no-cache", "services", cwd=tmp_path)
    assert err == ""  # every snapshot found
    assert by_file(out, tmp_path, tmp_path) == {"services/a/post.py": [("PF501", 6)], "services/b/post.py": [("PF501", 6)]}


def test_cached_results_hold_for_their_own_configurations_schemas(tmp_path: Path) -> None:
    write_project(tmp_path, SCHEMA_SERVICES)

    def check(service: str) -> CheckResult:
        config = ConfigResolver(root=tmp_path)
        targets = discover([tmp_path / "services" / service], config)
        load_each(dict.fromkeys(config.config_for(f) for f in targets)).attach()  # the targets' schemas only
        return check_files(targets, config, project=project_files(config, targets), jobs=1)

    assert check("c").analysed == 1
    assert check("a").analysed == 1  # c's schema is not loaded: its cached result waits
    again = check("c")
    assert (again.analysed, again.diagnostics) == (0, [])
    (tmp_path / "services" / "c" / "snap.json").write_text(snapshot(["id", "title"]))
    changed = check("c")
    assert changed.analysed == 1 and [d.code for d in changed.diagnostics] == ["PF501"]


@pytest.mark.parametrize(
    ("files", "fragments"),
    [
        (
            {"pyproject.toml": "[tool.pitfalls]\nextend = 'base.toml'\n", "base.toml": "extend = 'pyproject.toml'\n"},
            ["pitfalls: error: ", "base.toml: extend cycle: ", "pyproject.toml -> ", "base.toml -> "],
        ),
        ({"pyproject.toml": "[tool.pitfalls]\nextend = 'missing.toml'\n"}, ["extend: ", "missing.toml: no such config file"]),
        ({"pyproject.toml": "[tool.pitfalls]\nextend = 1\n"}, ["bad value for 'extend'"]),
        # An error in the extended file names that file.
        (
            {"pyproject.toml": "[tool.pitfalls]\nextend = 'base.toml'\n", "base.toml": "selecct = ['PF']\n"},
            ["base.toml: [tool.pitfalls] unknown key 'selecct'"],
        ),
        (
            {"services/a/pyproject.toml": "[tool.pitfalls]\nextend-select = ['PF999']\n"},
            ["a/pyproject.toml: [tool.pitfalls] unknown rule code or prefix in 'extend-select': PF999"],
        ),
    ],
)
def test_bad_extension_is_one_line_exit_2(tmp_path: Path, run_main, files: dict[str, str], fragments: list[str]) -> None:
    write_project(tmp_path, {**files, "services/a/app.py": "x = 1\n"})
    code, out, err = run_main("check", ".", cwd=tmp_path)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


@pytest.mark.asyncio
async def test_the_server_resolves_each_files_configuration_as_the_cli_does(repo: Path) -> None:
    expected = {**EXPECTED, "libs/libshared/hub.py": [("PF301", 1)]}
    async with session(repo) as s:
        for rel, found in expected.items():
            closed = s.latest(s.uri(rel))
            assert closed is not None and codes(closed.diagnostics) == found, rel
        assert s.latest(s.uri("services/b/generated/client.py")) is None  # excluded by the root's configuration
        for rel in ("services/a/app_a/models.py", "services/b/app_b/models.py"):
            uri = s.open(rel)
            assert codes(await s.diagnostics(uri, version=1)) == EXPECTED[rel], rel
    # A folder opened on its own: its files keep their configuration, the index the repository.
    async with session(repo / "services" / "a", initialization_options={"extendSelect": ["PF1"]}) as s:
        uri = s.open("app_a/models.py")
        assert codes(await s.diagnostics(uri, version=1)) == [("PF103", 10), ("PF401", 14)]  # the editor's on top
        assert codes(s.latest(s.uri("app_a/cycle.py")).diagnostics) == [("PF301", 1)]  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_the_server_names_a_bad_service_configuration_in_one_warning(repo: Path) -> None:
    (repo / "services" / "a" / "pyproject.toml").write_text("[tool.pitfalls]\nselecct = ['PF']\n")
    async with session(repo) as s:
        warnings = [m.message for m in s.client.messages if "selecct" in m.message]
        assert warnings == [f"pitfalls: {repo / 'services/a/pyproject.toml'}: [tool.pitfalls] unknown key 'selecct'"]
        uri = s.open("services/b/app_b/models.py")  # the other services are still checked
        assert codes(await s.diagnostics(uri, version=1)) == EXPECTED["services/b/app_b/models.py"]
