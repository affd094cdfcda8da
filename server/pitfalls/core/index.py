"""The project index: every module's summary, and name resolution across modules.

:class:`IndexView` is the index as one file's rules see it; it records what they read
(:class:`~pitfalls.core.dependencies.Dependencies`), so a cached result knows exactly
what it depends on.
"""

from __future__ import annotations

import hashlib
from bisect import insort
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from pitfalls.core.dependencies import Dependencies, PartsRead, disk_answer, folder_names, listing_answer
from pitfalls.core.summary_data import (
    ENTRY_TABLES, PYDANTIC_BASE_MODELS, ClassInfo, FieldInfo, FunctionInfo, ImportInfo, ModuleSummary,
)

if TYPE_CHECKING:
    from pitfalls.core.import_graph import ImportGraph

# ---------------------------------------------------------------------------------------
# Resolving names across the project

_MAX_PART_DIGESTS = 200_000  # (see ProjectIndex.part_digest)


def modules_key(paths: Iterable[str]) -> str:
    """One fingerprint of which modules a project has: their paths."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(paths):
        digest.update(f"{path}\0".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class ProjectIndex:
    """All module summaries, with lookups that follow imports and re-exports."""

    def __init__(self, summaries: Iterable[ModuleSummary] = ()) -> None:
        self.by_path: dict[str, ModuleSummary] = {}
        self.fingerprints: dict[str, str] = {}
        self._by_name: dict[str, list[ModuleSummary]] = {}
        self._graph: ImportGraph | None = None
        # The last graph built, and the modules whose summaries changed since (same path,
        # name and root: no other module's imports resolve differently).
        self._earlier: ImportGraph | None = None
        self._changed: set[str] = set()
        self._modules_key: str | None = None
        # Whether git ignores a path (is_dir keyword), as it ignores files generated at
        # build time; set by the project layer, which reads .gitignore files (core does not).
        self.ignored_by_git: Callable[..., bool] | None = None
        # Digests of summaries' parts (see part_digest), by (fingerprint, part).
        self._part_digests: dict[tuple[str, str], str] = {}
        # Counts the changes of what lookups answer (a module added, changed or removed): a
        # view made at one generation answers as the index does while it lasts.
        self.generation = 0
        # Of those, the ones each module's own edits made (its summary replaced by another of
        # the same module): ``generation`` less a module's own is what the others changed.
        self.edits: dict[str, int] = {}
        for summary in summaries:
            self.add(summary)

    def part_digest(self, summary: ModuleSummary, key: str) -> str:
        """``summary.part(key)``, once per summary as it is (its fingerprint): every
        file's view asks about the same classes of the same modules."""
        memo = (self.fingerprints[summary.path], key)
        found = self._part_digests.get(memo)
        if found is None:
            if len(self._part_digests) >= _MAX_PART_DIGESTS:  # a long-lived index: summaries come and go
                self._part_digests.clear()
            found = self._part_digests[memo] = summary.part(key)
        return found

    def import_graph(self) -> ImportGraph:
        """The module-level import graph and its cycles: computed once per state of the
        index (a project phase, as pylint computes cyclic imports once), not per file."""
        if self._graph is None:
            from pitfalls.core.import_graph import ImportGraph

            self._graph = ImportGraph(self, self._earlier, self._changed)
            self._earlier, self._changed = None, set()
        return self._graph

    def add(self, summary: ModuleSummary, fingerprint: str | None = None) -> None:
        old = self.by_path.get(summary.path)
        if old is summary:
            return  # the same summary again (an editor re-checking unchanged text)
        fingerprint = fingerprint or summary.fingerprint()
        edited = old is not None and (old.name, old.root) == (summary.name, summary.root)  # the same module's text
        if edited and self.fingerprints[summary.path] == fingerprint:
            # The same summary made again (a closed file checked again because a module it
            # reads changed): no lookup, and no import graph, changes with it.
            self.by_path[summary.path] = summary
            found = self._by_name[summary.name]
            found[next(i for i, each in enumerate(found) if each is old)] = summary
            return
        graph = self._graph or self._earlier
        changed = self._changed
        before = self.generation
        self._drop(summary.path)
        self.generation += 1
        if edited:
            self.edits[summary.path] = self.edits.get(summary.path, 0) + self.generation - before
        if old is None:
            self._modules_key = None
        if graph is not None and edited:
            self._earlier, self._changed = graph, changed | {summary.path}  # an edit: update the graph
        else:
            self._graph = self._earlier = None  # a new module: other imports may resolve to it
        self.by_path[summary.path] = summary
        self.fingerprints[summary.path] = fingerprint
        # In path order: which of two modules of one name a lookup finds must not depend
        # on the order they were summarised in.
        insort(self._by_name.setdefault(summary.name, []), summary, key=attrgetter("path"))

    def remove(self, path: str) -> None:
        if self._drop(path):
            self._modules_key = None

    def _drop(self, path: str) -> bool:
        """Forget ``path``'s module; whether there was one."""
        old = self.by_path.pop(path, None)
        if old is not None:
            self.generation += 1
            self._graph = self._earlier = None
            self._changed = set()
            self._by_name[old.name].remove(old)
            if not self._by_name[old.name]:
                del self._by_name[old.name]
            del self.fingerprints[path]
        return old is not None

    def imported_elsewhere(self, path: str) -> bool:
        """Whether another module imports ``path``'s module (``import a.m``, ``from a
        import m``), a name from it, or a package it is in or a module in it (``import a``,
        ``import a.m.sub``: the attributes of what they bind may lead there). A module that
        imports a name a package re-exports from it is that package's importer: the
        package imports it."""
        own = self.by_path.get(path)
        if own is None:
            return False
        name = own.name
        for other, summary in self.by_path.items():
            if other != path and any(
                info.module == name
                or (
                    name.startswith(info.module + ".") or info.module.startswith(name + ".")
                    if info.name is None
                    else f"{info.module}.{info.name}" == name
                )
                for info in summary.imports
            ):
                return True
        return False

    def generation_of_others(self, path: str) -> int:
        """The changes of what lookups answer that edits of ``path``'s module did not make."""
        return self.generation - self.edits.get(path, 0)

    def modules_key(self) -> str:
        """:func:`modules_key` of the modules summarised: kept until one is added or removed."""
        if self._modules_key is None:
            self._modules_key = modules_key(self.by_path)
        return self._modules_key

    def defining(self, constant: str) -> list[str]:
        """Paths of the modules that define the string collection ``constant``."""
        return [p for p, s in self.by_path.items() if constant in s.constants]

    def everything(self) -> dict[str, ModuleSummary]:
        """Every module's summary, by path."""
        return self.by_path

    def fingerprint_of(self, path: str) -> str | None:
        """The fingerprint of ``path``'s summary (None: no module there)."""
        return self.fingerprints.get(path)

    def graph_for(self, path: str) -> ImportGraph:
        """The import graph, as far as it concerns the module at ``path``."""
        return self.import_graph()

    def modules(self, name: str) -> list[ModuleSummary]:
        """Every module called ``name``, one per source root that has it."""
        return list(self._by_name.get(name, ()))

    def module(self, name: str, near_root: str | None = None) -> ModuleSummary | None:
        """The module called ``name``, preferring the one under ``near_root``."""
        found = self._by_name.get(name)
        if not found:
            return None
        if near_root is not None:
            for summary in found:
                if summary.root == near_root:
                    return summary
        return found[0]


class IndexView:
    """The index as one module sees it: lookups prefer that module's source root, and
    every summary consulted is recorded in ``read`` (and every module looked up and not
    found), so cached results know exactly what they depend on."""

    def __init__(self, index: ProjectIndex, root: str | None, own: str | None = None) -> None:
        """``own``: the path of the file checked, whose own parts are not recorded (its
        result is computed again whenever it changes; in the editor, at each keystroke)."""
        self.index = index
        self.root = root
        self.own = own
        self.read = Dependencies()
        # Classes defined inside the functions of the file being checked, by qualified
        # name (`app.jobs.run.<locals>.Payload`): no other module sees them.
        self.local_classes: dict[str, ClassInfo] = {}
        # Answers already given (the index does not change while a view is in use, and
        # what they read is recorded the first time): rules ask the same names often.
        self._splits: dict[str, tuple[ModuleSummary, str] | None] = {}
        self._resolved: dict[str, str] = {}
        self._class_infos: dict[str, ClassInfo | None] = {}
        self._listings: dict[str, set[str] | None] = {}
        self._generation = index.generation

    def serves(self, index: ProjectIndex, root: str | None, own: str | None) -> bool:
        """Whether this view answers for a check of ``own`` against ``index`` as a new one
        would: the index has not changed since it was made (an editor's keystroke that left
        every summary as it was keeps its buffer's view, and what it has worked out)."""
        return self.index is index and self._generation == index.generation and (self.root, self.own) == (root, own)

    def again(self) -> None:
        """Before another check: the local classes are the new tree's, and the disk is asked
        again (it changes outside the index). What was read stays recorded: the index has
        not changed, so it still holds."""
        self.local_classes.clear()
        self._listings.clear()
        self.read.disk.clear()

    # -- the disk, outside the index: each answer recorded (see :func:`disk_answer`) ------

    def generated_at_build(self, path: str) -> bool:
        """Whether git ignores module or package ``path`` (no suffix): what a module
        generated at build time (``_version.py``) looks like in a clean checkout."""
        return self._disk("ignored", path) == "1"

    def module_on_disk(self, path: str) -> bool:
        """Whether a module or package ``path`` (no suffix) is on disk, in the index or not."""
        return self._disk("module", path) == "1"

    def file_on_disk(self, path: str) -> bool:
        return self._disk("file", path) == "1"

    def listing(self, folder: str) -> set[str] | None:
        """The names a folder's entries import as; None when it cannot be read (read once
        per view, as it is recorded)."""
        if folder not in self._listings:
            names = folder_names(folder)
            self.read.disk.setdefault("listing", {})[folder] = listing_answer(names)
            self._listings[folder] = None if names is None else set(names)
        return self._listings[folder]

    def _disk(self, kind: str, path: str) -> str:
        answers = self.read.disk.setdefault(kind, {})
        if path not in answers:
            answers[path] = disk_answer(kind, path, self.index.ignored_by_git)
        return answers[path]

    def module(self, name: str) -> ModuleSummary | None:
        """The module called ``name`` (preferring this file's root), recorded as read whole."""
        summary = self.index.module(name, self.root)
        self._found(name, [summary] if summary is not None else [], whole=True)
        return summary

    def modules(self, name: str) -> list[ModuleSummary]:
        """Every module called ``name`` (one per source root that has it)."""
        return self._found(name, self.index.modules(name), whole=True)

    # -- modules read in parts (see Dependencies.parts) ------------------------------------

    def find(self, name: str) -> ModuleSummary | None:
        """:meth:`module`, recording only which module it is: the caller reads no more of
        it, or reads it through the methods here that record each part they read."""
        summary = self.index.module(name, self.root)
        self._found(name, [summary] if summary is not None else [], whole=False)
        return summary

    def find_all(self, name: str) -> list[ModuleSummary]:
        """:meth:`modules`, recording only which modules they are (see :meth:`find`)."""
        return self._found(name, self.index.modules(name), whole=False)

    def _found(self, name: str, found: list[ModuleSummary], *, whole: bool) -> list[ModuleSummary]:
        """``found``, the modules called ``name``, recorded as read (none: looked for)."""
        if not found:
            self.read.missing.add(name)
        for summary in found:
            if whole:
                self.read.summaries.setdefault(summary.path, self.index.fingerprints[summary.path])
            else:
                self._part(summary, "module")
        return found

    def exports(self, summary: ModuleSummary, name: str) -> bool:
        """``summary.exports(name)``, recorded as the part of it that was read."""
        self._part(summary, f"exports:{name}")
        return summary.exports(name)

    def entry(self, summary: ModuleSummary, kind: str, name: str) -> Any:
        """The entry ``name`` of one of ``summary``'s tables, or None, recorded as read:
        ``kind`` is ``class``, ``function``, ``binding``, ``call_assignment`` or
        ``call_class`` (see ModuleSummary.part)."""
        self._part(summary, f"{kind}:{name}")
        return getattr(summary, ENTRY_TABLES[kind]).get(name)

    def typevars(self, summary: ModuleSummary) -> tuple[list[str], list[str]]:
        """``summary``'s TypeVars, and those declared with a default, recorded as read."""
        self._part(summary, "typevars")
        return summary.typevars, summary.typevar_defaults

    def _part(self, summary: ModuleSummary, key: str) -> None:
        path = summary.path
        read = self.read.parts.get(path)
        if read is None:
            if path in self.read.summaries or path == self.own:
                return  # read whole, or the file's own
            read = self.read.parts[path] = PartsRead(self.index.fingerprints[path])
        elif key in read.digests:
            return
        read.digests[key] = self.index.part_digest(summary, key)

    def import_cycles(self, summary: ModuleSummary) -> dict[str, str]:
        """For every module on an import cycle through ``summary``'s module, the next
        module on a shortest path of module-level imports back to it."""
        return self._graph_of(summary).paths_back(summary.path)

    def imported_from(self, summary: ModuleSummary) -> set[str]:
        """The names other modules import from ``summary``'s module (``*``: all)."""
        return self._graph_of(summary).imported_names(summary.path)

    def _graph_of(self, summary: ModuleSummary) -> ImportGraph:
        """The import graph, recording what it says of ``summary``'s module as read."""
        graph = self.index.graph_for(summary.path)
        self.read.cycle = graph.fingerprint(summary.path)
        return graph

    def _split(self, qualname: str) -> tuple[ModuleSummary, str] | None:
        """Split ``pkg.mod.Attr`` into the longest project module prefix and the rest."""
        if qualname in self._splits:
            return self._splits[qualname]
        found = None
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            summary = self.find(".".join(parts[:cut]))
            if summary is not None:
                found = summary, ".".join(parts[cut:])
                break
        self._splits[qualname] = found
        return found

    def resolve(self, qualname: str) -> str:
        """Follow re-exports: the qualified name where ``qualname`` is really defined."""
        resolved = self._resolved.get(qualname)
        if resolved is None:
            resolved = self._resolved[qualname] = self._resolve(qualname, 0)
        return resolved

    def _resolve(self, qualname: str, depth: int) -> str:
        if depth > 20:
            return qualname
        split = self._split(qualname)
        if split is None:
            return qualname
        summary, rest = split
        head, _, tail = rest.partition(".")
        self._part(summary, f"name:{head}")
        if head in summary.classes or head in summary.functions:
            return qualname
        target = summary.bindings.get(head)
        if target is None:
            submodule = f"{summary.name}.{head}" if summary.name else head
            if summary.is_package and self.find(submodule) is not None:
                return self._resolve(f"{submodule}.{tail}" if tail else submodule, depth + 1)
            return qualname
        return self._resolve(f"{target}.{tail}" if tail else target, depth + 1)

    def class_info(self, qualname: str) -> ClassInfo | None:
        local = self.local_classes.get(qualname)
        if local is not None:
            return local
        if qualname in self._class_infos:
            return self._class_infos[qualname]
        split = self._split(self.resolve(qualname))
        found = self._class_infos[qualname] = self.entry(split[0], "class", split[1]) if split is not None else None
        return found

    def ancestors(self, qualname: str) -> list[str]:
        """Qualified names of all base classes (transitively), nearest first; external
        bases appear as written through imports, e.g. ``pydantic.BaseModel``."""
        seen: list[str] = []
        queue = [self.resolve(qualname)]
        while queue:
            current = queue.pop(0)
            info = self.class_info(current)
            if info is None:
                continue
            for base in info.bases:
                if base.qualname is None:
                    continue
                resolved = self.resolve(base.qualname)
                if resolved not in seen and resolved != qualname:
                    seen.append(resolved)
                    queue.append(resolved)
        return seen

    def classified(self, qualname: str, table: Mapping[str, str]) -> list[str]:
        """What ``table`` (qualified class name -> kind) says of the class ``qualname``
        names: its own entry, else those of its ancestors, nearest first (a project class
        derived from a known one); empty for a name that is neither."""
        resolved = self.resolve(qualname)
        if resolved in table:
            return [table[resolved]]
        if self.class_info(resolved) is None:
            return []
        return [table[a] for a in self.ancestors(resolved) if a in table]

    def is_subclass(self, qualname: str, targets: Iterable[str]) -> bool:
        wanted = set(targets)
        return self.resolve(qualname) in wanted or any(a in wanted for a in self.ancestors(qualname))

    def is_pydantic_model(self, qualname: str) -> bool:
        return self.class_info(qualname) is not None and self.is_subclass(
            qualname, PYDANTIC_BASE_MODELS
        )

    def find_field(self, qualname: str, field_name: str) -> FieldInfo | None:
        for candidate in [self.resolve(qualname), *self.ancestors(qualname)]:
            info = self.class_info(candidate)
            if info is not None and field_name in info.fields:
                return info.fields[field_name]
        return None

    def function_returns(self, qualname: str) -> str | None:
        split = self._split(self.resolve(qualname))
        if split is None:
            return None
        summary, rest = split
        func = self.entry(summary, "function", rest)
        return func.returns if func else None

    def method(self, qualname: str, name: str) -> tuple[str, FunctionInfo] | None:
        """The method ``name`` as ``qualname`` inherits it: (defining class, signature)."""
        for candidate in [self.resolve(qualname), *self.ancestors(qualname)]:
            info = self.class_info(candidate)
            if info is not None and name in info.methods:
                return candidate, info.methods[name]
        return None

    def find_constant(self, name: str) -> list[tuple[str, list[str]]]:
        """Every project module defining the string collection ``name``, as (module, values).

        Recorded as a dependency on which modules define it, so that adding or removing
        such a constant anywhere invalidates cached results that read it."""
        found = []
        definers = sorted(self.index.defining(name))
        for path in definers:
            summary = self.index.by_path[path]
            found.append((summary.name, summary.constants[name]))
            self.read.summaries[path] = self.index.fingerprints[path]
        self.read.constants[name] = ",".join(definers)
        return found

    def every_module(self) -> Iterable[ModuleSummary]:
        """Every module of the project, each recorded as read, in path order (a question
        that stops at the first module that decides it reads the same ones every time),
        and a module added anywhere as a change of what was read."""
        self.read.every = self.index.modules_key()
        for path, summary in sorted(self.index.everything().items()):
            self.read.summaries[path] = self.index.fingerprints[path]
            yield summary

    def project_imports(self, summary: ModuleSummary, scopes: tuple[str, ...] = ("module",)) -> list[tuple[ImportInfo, str]]:
        """The imports of ``summary`` that reach project modules, with each module reached:
        ``from pkg import sub`` reaches ``pkg.sub`` when that is a module, else ``pkg``; and
        importing ``a.b.c`` first runs the ``__init__`` of packages ``a.b`` and ``a`` (those
        that are not the importer's own, already running), so it reaches them too."""
        own = summary.name.split(".")
        running = own if summary.is_package else own[:-1]
        out = []
        for info in summary.imports:
            if info.scope not in scopes:
                continue
            target = None
            if info.name is not None and info.name != "*":
                submodule = f"{info.module}.{info.name}" if info.module else info.name
                if self.find(submodule) is not None:
                    target = submodule
            if target is None and info.module and self.find(info.module) is not None:
                target = info.module
            if target is None:
                continue
            parts = target.split(".")
            shared = 0  # leading packages the importer is itself inside: already running
            while shared < min(len(parts), len(running)) and parts[shared] == running[shared]:
                shared += 1
            for depth in range(shared + 1, len(parts)):
                package = ".".join(parts[:depth])
                if self.find(package) is not None:
                    out.append((info, package))
            out.append((info, target))
        return out
