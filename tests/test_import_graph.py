"""The project phase of PF301: import cycles computed once per index, keyed by component."""

from __future__ import annotations

import libcst as cst
from pitfalls.core.index import ProjectIndex
from pitfalls.core.summary import ModuleSummary, summarize


def module(name: str, source: str, *, package: bool = False) -> ModuleSummary:
    path = f"/p/{name.replace('.', '/')}{'/__init__' if package else ''}.py"
    return summarize(cst.parse_module(source), name=name, path=path, root="/p", is_package=package)


def index_of(*summaries: ModuleSummary) -> ProjectIndex:
    return ProjectIndex([module("app", "", package=True), *summaries])


def test_modules_off_every_cycle_have_no_fingerprint() -> None:
    index = index_of(module("app.a", "import app.b\n"), module("app.b", "x = 1\n"))
    graph = index.import_graph()
    assert graph.fingerprint("/p/app/a.py") == graph.fingerprint("/p/app/b.py") == ""
    assert graph.paths_back("/p/app/a.py") == {}


def test_a_cycle_has_one_fingerprint_and_shortest_paths_back() -> None:
    index = index_of(
        module("app.a", "from app import b\nfrom app import c\n"),
        module("app.b", "from app import c\n"),
        module("app.c", "import app.a\n"),
        module("app.d", "import app.a\n"),  # reaches the cycle, is not on it
    )
    graph = index.import_graph()
    fingerprints = {graph.fingerprint(f"/p/app/{m}.py") for m in "abc"}
    assert len(fingerprints) == 1 and "" not in fingerprints
    assert graph.fingerprint("/p/app/d.py") == ""
    assert graph.paths_back("/p/app/a.py") == {"app.c": "app.a", "app.b": "app.c"}


def test_a_fingerprint_changes_with_its_cycle_only() -> None:
    cycle = [module("app.a", "import app.b\n"), module("app.b", "import app.a\n")]
    other = module("app.x", "import app.y\n")
    before = index_of(*cycle, other, module("app.y", ""))
    after = index_of(*cycle, other, module("app.y", "import app.x\n"))  # a second cycle appears elsewhere
    assert before.import_graph().fingerprint("/p/app/a.py") == after.import_graph().fingerprint("/p/app/a.py")
    assert after.import_graph().fingerprint("/p/app/x.py") != ""
    broken = index_of(module("app.a", "def f():\n    import app.b\n"), cycle[1])
    assert broken.import_graph().fingerprint("/p/app/b.py") == ""


def test_the_graph_is_recomputed_when_the_index_changes() -> None:
    index = index_of(module("app.a", "import app.b\n"), module("app.b", ""))
    assert index.import_graph().fingerprint("/p/app/a.py") == ""
    index.add(module("app.b", "import app.a\n"))
    assert index.import_graph().fingerprint("/p/app/a.py") != ""


def test_a_long_chain_needs_no_recursion() -> None:
    count = 5000
    summaries = [module(f"app.m{i}", f"import app.m{(i + 1) % count}\n") for i in range(count)]
    graph = index_of(*summaries).import_graph()
    assert graph.fingerprint("/p/app/m0.py") == graph.fingerprint(f"/p/app/m{count - 1}.py") != ""
    hops = graph.paths_back("/p/app/m0.py")
    assert len(hops) == count - 1 and hops["app.m1"] == "app.m2"


def test_a_cached_pf301_result_reads_its_imports_and_its_cycle_not_everything_it_reaches(tmp_path) -> None:
    from pitfalls.core.settings import parse_settings
    from pitfalls.project.config import ConfigResolver, ProjectConfig
    from pitfalls.project.run import check_files

    count = 200
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    for i in range(count):  # one cycle through every module: each reaches all the others
        (tmp_path / "app" / f"m{i}.py").write_text(f"from app import m{(i + 1) % count}\n")
    config = ConfigResolver(fixed=ProjectConfig(parse_settings({"select": ["PF301"]}), tmp_path, None))
    files = sorted(tmp_path.rglob("*.py"))
    result = check_files(files, config, jobs=1, base=tmp_path)
    assert len(result.diagnostics) == count
    read = result.dependencies[str(tmp_path / "app" / "m0.py")]
    assert len(read.summaries) <= 2 and read.cycle  # app and app.m1, plus one fingerprint

    (tmp_path / "app" / "m7.py").write_text("from app import m8\n# touched\n")  # same summary
    again = check_files(files, config, jobs=1, base=tmp_path)
    assert again.analysed == 1 and again.diagnostics == result.diagnostics  # the edited file only
    (tmp_path / "app" / "m7.py").write_text("def later():\n    from app import m8\n")  # the cycle breaks
    broken = check_files(files, config, jobs=1, base=tmp_path)
    assert broken.diagnostics == [] and broken.analysed == count


def test_pf301_offers_no_fix_that_takes_a_name_other_modules_import(tmp_path) -> None:
    from pitfalls.core.settings import parse_settings
    from pitfalls.project.config import ConfigResolver, ProjectConfig
    from pitfalls.project.run import check_files

    files = {
        "app/__init__.py": "",
        "app/models.py": "from app.services import Service\n\n\ndef use(s: Service) -> None:\n    pass\n",
        "app/services.py": "from app import models\n\n\nclass Service:\n    pass\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    config = ConfigResolver(fixed=ProjectConfig(parse_settings({"select": ["PF301"]}), tmp_path, None))

    def models_fix():
        result = check_files(sorted(tmp_path.rglob("*.py")), config, jobs=1, base=tmp_path)
        [finding] = [d for d in result.diagnostics if d.path == "app/models.py"]
        return finding.fix

    assert models_fix() is not None  # only annotations use it: under `if TYPE_CHECKING:`
    (tmp_path / "app" / "api.py").write_text("from app.models import Service\n")  # imported from models
    assert models_fix() is None


def _same_graph(index: ProjectIndex) -> None:
    """The graph updated edit by edit says what one built afresh says."""
    from pitfalls.core.import_graph import ImportGraph

    updated, fresh = index.import_graph(), ImportGraph(index)
    assert updated.edges == fresh.edges
    for path in fresh.edges:
        assert updated.fingerprint(path) == fresh.fingerprint(path)
        assert updated.paths_back(path) == fresh.paths_back(path)


def test_an_edited_module_updates_the_graph_in_place() -> None:
    """An edit that keeps the module's name resolves only that module's imports again."""
    index = index_of(module("app.a", "import app.b\n"), module("app.b", ""), module("app.c", "from app import a\n"))
    first = index.import_graph()
    index.add(module("app.b", "from app import c\n"))  # closes a -> b -> c -> a
    second = index.import_graph()
    assert second is not first and second.fingerprint("/p/app/a.py") != ""
    _same_graph(index)
    index.add(module("app.b", "x = 1\nfrom app import c, a\n"))
    index.add(module("app.c", ""))  # two edits before the graph is asked for again
    _same_graph(index)
    assert index.import_graph().fingerprint("/p/app/a.py") != ""  # a <-> b
    index.remove("/p/app/b.py")  # a module gone: built afresh
    _same_graph(index)
    assert index.import_graph().fingerprint("/p/app/a.py") == ""


def test_a_module_added_after_the_graph_was_built_is_in_the_next_graph() -> None:
    """A new file (created in the editor) may close a cycle: the graph is built again."""
    index = index_of(module("app.a", "import app.b\n"))
    assert index.import_graph().fingerprint("/p/app/a.py") == ""
    index.add(module("app.b", "import app.a\n"))
    assert index.import_graph().fingerprint("/p/app/a.py") != ""


def test_a_module_summarised_again_to_the_same_summary_keeps_the_graph() -> None:
    """A closed file checked again because a module it reads changed: its summary is made
    anew, equal to the last; the graph stands, lookups find the new summary."""
    index = index_of(module("app.a", "import app.b\n"), module("app.b", "import app.a\n"))
    graph = index.import_graph()
    again = module("app.b", "import app.a\n")
    index.add(again)
    assert index.import_graph() is graph and graph.fingerprint("/p/app/b.py") != ""
    assert index.module("app.b") is again and index.by_path["/p/app/b.py"] is again
    index.add(module("app.b", "x = 1\n"))  # a change: the graph follows
    assert index.import_graph() is not graph and index.import_graph().fingerprint("/p/app/a.py") == ""
