"""The project's module-level import graph and its cycles, computed once per index state.

Nodes are module paths; an edge is an import that runs while the module is first imported
(module level, not under ``if TYPE_CHECKING:``; a ``.pyi`` stub imports nothing). The
strongly connected components are the import cycles: a module's cycles lie inside its
component, so a result about them depends on that component alone (its fingerprint), not
on every module the file can reach. The graph also knows which names other modules import
from each module (its API in use: an import there is not free to move).
"""

from __future__ import annotations

import hashlib
from collections import deque
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from pitfalls.core.index import ProjectIndex
    from pitfalls.core.summary_data import ModuleSummary


class ImportGraph:
    """``earlier``: the graph of the index before the modules ``changed`` got new summaries
    (with the same names and roots): only their own imports are resolved again."""

    def __init__(self, index: ProjectIndex, earlier: ImportGraph | None = None, changed: Iterable[str] = ()) -> None:
        self._names = {path: summary.name for path, summary in index.by_path.items()}
        self._imported: dict[str, set[str]] = {}  # module name -> names imported from it ("*": all)
        for summary in index.by_path.values():
            for info in summary.imports:
                if info.name is not None:
                    self._imported.setdefault(info.module, set()).add(info.name)
        if earlier is None:
            self.edges = {path: module_imports(index, summary) for path, summary in index.by_path.items()}
        else:
            self.edges = dict(earlier.edges)
            for path in changed:
                self.edges[path] = module_imports(index, index.by_path[path])
        self._component = _components(self.edges)
        self._members: dict[int, list[str]] = {}
        for member, component in self._component.items():
            self._members.setdefault(component, []).append(member)
        self._fingerprints: dict[int, str] = {}
        self._paths_back: dict[str, dict[str, str]] = {}

    def fingerprint(self, path: str) -> str:
        """The identity of what the graph says about ``path``: its import cycles and the
        names other modules import from it ("" when it is on no cycle and gives none)."""
        cycles = self._cycle_fingerprint(path)
        imported = self.imported_names(path)
        return f"{cycles}:{','.join(sorted(imported))}" if imported else cycles

    def imported_names(self, path: str) -> set[str]:
        """The names other modules import from ``path``'s module (``*`` for a star import)."""
        name = self._names.get(path)
        return self._imported.get(name, set()) if name is not None else set()

    def _cycle_fingerprint(self, path: str) -> str:
        """The identity of ``path``'s import cycles: its component's members and the edges
        among them ("" when the module is on no cycle)."""
        component = self._component.get(path)
        if component is None:
            return ""
        found = self._fingerprints.get(component)
        if found is None:
            members = sorted(self._members[component])
            if len(members) == 1 and members[0] not in self.edges[members[0]]:
                found = ""
            else:
                inside = set(members)
                digest = hashlib.blake2b(digest_size=12)
                for member in members:
                    digest.update(repr((member, self._names[member], [t for t in self.edges[member] if t in inside])).encode())
                found = digest.hexdigest()
            self._fingerprints[component] = found
        return found

    def fingerprints(self) -> dict[str, str]:
        """Every module's cycle fingerprint, by path."""
        return {path: self.fingerprint(path) for path in self.edges}

    def paths_back(self, path: str) -> dict[str, str]:
        """For every module on an import cycle through ``path``, by name, the next module
        on a shortest path of imports back to it (a breadth-first search inside the
        component)."""
        if not self._cycle_fingerprint(path):
            return {}
        found = self._paths_back.get(path)
        if found is None:
            component = self._component[path]
            # Importers in the order a depth-first walk from `path` meets them, so that of
            # several shortest paths the one through the earliest imports is reported.
            order = {path: None}
            stack = [path]
            while stack:
                for target in self.edges[stack.pop()]:
                    if target not in order and self._component.get(target) == component:
                        order[target] = None
                        stack.append(target)
            importers: dict[str, list[str]] = {}
            for source in order:
                for target in self.edges[source]:
                    if target in order:
                        importers.setdefault(target, []).append(source)
            hops: dict[str, str] = {}
            queue = deque([path])
            while queue:
                target = queue.popleft()
                for source in importers.get(target, ()):
                    if source not in hops and source != path:
                        hops[source] = target
                        queue.append(source)
            found = {self._names[s]: self._names[t] for s, t in hops.items()}
            self._paths_back[path] = found
        return found


def module_imports(index: ProjectIndex, summary: ModuleSummary) -> list[str]:
    """The modules ``summary``'s module imports at module level (a stub: none)."""
    from pitfalls.core.index import IndexView

    if summary.path.endswith(".pyi"):
        return []
    targets: dict[str, None] = {}
    for _, name in IndexView(index, summary.root).project_imports(summary):
        found = index.module(name, summary.root)
        if found is not None:
            targets[found.path] = None
    return list(targets)


def _components(edges: dict[str, list[str]]) -> dict[str, int]:
    """Tarjan's strongly connected components, without recursion: node -> component id."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    component: dict[str, int] = {}
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, i = work[-1]
            targets = edges.get(node, ())
            if i < len(targets):
                work[-1] = (node, i + 1)
                target = targets[i]
                if target not in edges:
                    continue
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = index[node]
                    if member == node:
                        break
    return component
