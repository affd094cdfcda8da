"""A lazy index answers as the index of every module does, reading less of the project.

A run that checks a few files of a big project (pre-commit) summarises a module only when a
check needs it (:class:`~pitfalls.core.lazy_index.LazyIndex`). Its answers, the findings
and what each result records it read (what the cache judges it by) must be those of the
whole index: on a written project that imports by absolute and relative names, in and out
of cycles, and on files of the largest ecosystem project (``../shared/ecosystem``).
"""

from __future__ import annotations

import random
from pathlib import Path

from pitfalls.core.index import ProjectIndex
from pitfalls.core.lazy_index import LazyIndex, spells
from pitfalls.core.summary_ast import summarize_source
from pitfalls.core.summary_data import ModuleSummary
from pitfalls.project.cache import Entry
from pitfalls.project.config import ConfigResolver
from pitfalls.project.discovery import discover
from pitfalls.project.run import check_files

from tests.conftest import unpack_ecosystem, write_project


PROJECT = {
    "pyproject.toml": "[tool.pitfalls]\n",
    "pkg/__init__.py": "from . import helpers\nfrom .models import Base\n",
    "pkg/models.py": "from pkg.service import run\n\nSTATUSES = ['a', 'b']\n\n\nclass Base:\n    pass\n",
    "pkg/service.py": "from .models import Base\n\n\ndef run():\n    return Base()\n",
    "pkg/helpers.py": "VALUE = 1\n",
    "pkg/sub/__init__.py": "",
    "pkg/sub/deep.py": "from ..models import STATUSES\nfrom .. import service\n",
    "other/__init__.py": "",
    "other/uses.py": "import pkg.helpers\nfrom pkg.helpers import VALUE\n",
    "other/constants.py": "STATUSES = ('x',)\n",
    "other/unrelated.py": "X = 1\n",
    "other/spaced.py": "from pkg . \\\n    helpers import SPACED\n",  # Python allows both around a dot
}


def summaries(root: Path) -> tuple[dict[str, tuple[str, bool]], dict[str, ModuleSummary]]:
    """Every module of the project under ``root``: (name, is a package) and summary by path."""
    config = ConfigResolver(root=root)
    modules: dict[str, tuple[str, bool]] = {}
    found: dict[str, ModuleSummary] = {}
    for path in map(str, discover([root], config)):
        name, source_root, is_package = config.module_name(path)
        modules[path] = (name, is_package)
        source = Path(path).read_text(encoding="utf-8")
        summary = summarize_source(source, display=path, name=name, path=path, root=source_root, is_package=is_package)
        assert summary is not None
        found[path] = summary
    return modules, found


def lazy(modules: dict[str, tuple[str, bool]], found: dict[str, ModuleSummary], loaded: list[str]) -> LazyIndex:
    def load(path: str) -> tuple[ModuleSummary, str]:
        loaded.append(path)
        return found[path], found[path].fingerprint()

    return LazyIndex(modules, load, lambda path, name: spells(Path(path).read_bytes(), name))


def test_every_answer_is_the_whole_index_answer(tmp_path: Path) -> None:
    root = write_project(tmp_path, PROJECT)
    modules, found = summaries(root)
    by_name: dict[str, list[str]] = {}
    for path, (name, _) in modules.items():
        by_name.setdefault(name, []).append(path)
    whole = ProjectIndex(found.values())
    graph = whole.import_graph()
    everywhere = len(found)
    for path in found:
        loaded: list[str] = []
        part = lazy(modules, found, loaded).graph_for(path)
        assert part.fingerprint(path) == graph.fingerprint(path), path
        assert part.paths_back(path) == graph.paths_back(path), path
        assert part.imported_names(path) == graph.imported_names(path), path
        assert len(loaded) < everywhere, path
        alone = lazy(modules, found, [])
        alone.ensure(path)  # the graph asked for directly: the imports are followed first
        assert alone.import_graph().paths_back(path) == graph.paths_back(path), path
    assert graph.imported_names(str(root / "pkg/__init__.py")) == {"helpers", "service"}  # `from . import`, `from .. import`
    assert graph.paths_back(str(root / "pkg/models.py"))  # on a cycle
    assert graph.imported_names(str(root / "pkg/helpers.py")) == {"VALUE", "SPACED"}
    for name in [*by_name, "pkg.nothing", "requests"]:
        loaded = []
        index = lazy(modules, found, loaded)
        assert index.module(name) == whole.module(name)
        assert index.modules(name) == whole.modules(name)
        assert set(loaded) == set(by_name.get(name, ()))
    for constant in ["STATUSES", "VALUE", "NOWHERE"]:
        loaded = []
        assert sorted(lazy(modules, found, loaded).defining(constant)) == sorted(whole.defining(constant))
        assert str(root / "other/unrelated.py") not in loaded
    loaded = []
    assert lazy(modules, found, loaded).everything() == whole.everything()
    assert len(loaded) == everywhere


def project_of_modules(root: Path, count: int) -> list[Path]:
    """``count`` modules besides ``app/target.py``, which calls into ``app/lib.py``."""
    files = {
        "pyproject.toml": "[tool.pitfalls]\n",
        "app/__init__.py": "",
        "app/lib.py": "def make(name):\n    return name\n",
        "app/target.py": "from app.lib import make\n\nmake(name='x')\n",
    }
    files.update({f"app/m{i}.py": f"VALUE_{i} = {i}\n" for i in range(count)})
    write_project(root, files)
    return sorted(root.rglob("*.py"))


def test_a_lazy_run_reads_what_the_check_needs_and_its_cache_still_judges(tmp_path: Path) -> None:
    files = project_of_modules(tmp_path, 30)
    config = ConfigResolver(root=tmp_path)
    target = tmp_path / "app" / "target.py"
    full = check_files(files, config, project=files)  # fills the cache
    assert full.diagnostics == [] and full.summarised == len(files)

    (tmp_path / "app" / "lib.py").write_text("def make(title):\n    return title\n", encoding="utf-8")
    first = check_files([target], config, project=files)
    assert [d.code for d in first.diagnostics] == ["PF209"]  # the cached result did not hold
    assert first.summarised == 1  # lib.py; the target's summary and the rest: not needed or cached

    # A fresh clone: nothing cached; only the target and what it imports are read.
    clone = tmp_path / "clone"
    clone_files = project_of_modules(clone, 30)
    (clone / "app" / "lib.py").write_text("def make(title):\n    return title\n", encoding="utf-8")
    config = ConfigResolver(root=clone)
    fresh = check_files([clone / "app" / "target.py"], config, project=clone_files)
    assert [d.code for d in fresh.diagnostics] == ["PF209"]
    assert 2 <= fresh.summarised < len(clone_files) // 4

    # The cycle it closes is seen from the target's lazily read modules too.
    (clone / "app" / "lib.py").write_text("import app.target\n\n\ndef make(title):\n    return title\n", encoding="utf-8")
    cycle = check_files([clone / "app" / "target.py"], config, project=clone_files)
    assert sorted(d.code for d in cycle.diagnostics) == ["PF209", "PF301"]


def test_pre_commit_on_cached_results_decodes_no_summary(tmp_path: Path, monkeypatch) -> None:
    """When every file is as the cache has it and the cache holds the import cycles, the
    results of the files named are judged from fingerprints, as a run over every file
    judges them: no summary is decoded (with its decoder's construction, half of such a
    run). A file changed and not named is unknown: the lazy index reads what the results
    read, and a result that no longer holds is computed again."""
    files = project_of_modules(tmp_path, 30)
    lib, target = tmp_path / "app" / "lib.py", tmp_path / "app" / "target.py"
    lib.write_text("import app.target\n\n\ndef make(name):\n    return name\n", encoding="utf-8")
    config = ConfigResolver(root=tmp_path)
    full = check_files(files, config, project=files)
    cycle = [d for d in full.diagnostics if d.path == full.displays[str(target)]]
    assert [d.code for d in cycle] == ["PF301"]  # the target's result read the cycle

    decoded: list[str] = []
    module_summary = Entry.module_summary
    monkeypatch.setattr(Entry, "module_summary", lambda self: decoded.append(self.module) or module_summary(self))
    assert check_files([target], config, project=files).diagnostics == cycle
    assert decoded == []

    lib.write_text("def make(name):\n    return name\n", encoding="utf-8")
    assert check_files([target], config, project=files).diagnostics == []
    assert decoded  # judged by the lazy index


def test_files_of_an_ecosystem_project_as_pre_commit_checks_them(tmp_path: Path) -> None:
    """Each sampled file checked alone (a lazy run) gives the findings and the recorded
    dependencies that the run over every file gives it."""
    unpack_ecosystem(tmp_path, "dispatch")
    root = tmp_path / "dispatch"
    config = ConfigResolver(root=root)
    files = discover([root], config)
    whole = check_files(files, config, project=files, use_cache=False, keep_index=True)  # keep_index: never lazy
    found: dict[str, list] = {}
    for diagnostic in whole.diagnostics:
        found.setdefault(diagnostic.path, []).append(diagnostic)
    with_findings = sorted({str(f) for f in files if whole.displays[str(f)] in found})
    sample = with_findings[:8] + random.Random(16).sample(sorted(map(str, files)), 8)
    for path in sample:
        alone = check_files([Path(path)], config, project=files, use_cache=False)
        assert alone.summarised < len(files) or path in with_findings, path
        assert alone.diagnostics == found.get(whole.displays[path], []), path
        assert alone.dependencies[path] == whole.dependencies[path], path
