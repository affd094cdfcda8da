"""What a rule is: a code, a doc, its own VALID/INVALID examples, and visit methods.

A rule is a class. The engine makes one instance per checked file and calls its
``visit_<Node>``/``leave_<Node>`` methods (libcst node class names) during the single
traversal that all enabled rules share; ``finish()`` runs after the traversal. Rules
report through ``self.ctx`` (a :class:`pitfalls.context.RuleContext`).

The class docstring is the rule's documentation, in Ruff's shape (What it does / Why is
this bad? / Example / Use instead / Fix safety); ``rules/PFnnn.md`` is generated from it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from pitfalls.core.diagnostics import Applicability, Diagnostic, Severity

if TYPE_CHECKING:
    from pitfalls.core.context import RuleContext
    from pitfalls.core.noqa import NoqaComments


@dataclass(frozen=True)
class Example:
    """Code a rule must stay silent on (VALID) or report (INVALID).

    ``files`` adds other modules of the example project (path -> source), for rules that
    look across files; the example's own code is written to ``path``. For INVALID examples
    ``line`` is the 1-based line every report must start on (default: at least one report
    anywhere), ``count`` how many reports are expected, ``message`` a substring of the
    message, and ``fixed`` the text after applying every fix (unsafe ones included).
    ``config`` holds ``[tool.pitfalls]`` settings for the example project. ``database`` is
    SQL (DDL) for a SQLite file of the example project, which becomes its ``database.url``.
    """

    code: str
    files: dict[str, str] = field(default_factory=dict)
    path: str = "example.py"
    line: int | None = None
    count: int | None = None
    message: str | None = None
    fixed: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    database: str | None = None


def Valid(code: str, **kwargs: Any) -> Example:  # noqa: N802 - reads like Fixit's constructor
    return Example(inspect.cleandoc(code) + "\n", **kwargs)


def Invalid(code: str, **kwargs: Any) -> Example:  # noqa: N802
    if "fixed" in kwargs and kwargs["fixed"] is not None:
        kwargs["fixed"] = inspect.cleandoc(kwargs["fixed"]) + "\n"
    return Example(inspect.cleandoc(code) + "\n", **kwargs)


_HANDLER = re.compile(r"^(visit|leave)_([A-Z][A-Za-z]*)$")


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]  # kebab-case, e.g. "manual-uuid-id"
    summary: ClassVar[str]  # one line, shown by `pitfalls rules`
    severity: ClassVar[Severity] = Severity.ERROR
    fix_applicability: ClassVar[Applicability | None] = None
    # "directus" or "database": without that schema (``Schemas``) the rule has nothing to
    # say, and does not run (nor do its ``# noqa`` codes count as unused, see PF001).
    schema_required: ClassVar[str | None] = None
    # Its reports and fixes read nothing of what a tree made from ast lacks (whitespace,
    # comments, parentheses; code as written goes through ``ctx.code_for``, which says
    # so): on such a tree (a run's, see ``core.ast_tree``) its reports are final, placed
    # from ast; any other rule's are made again on libcst's tree.
    exact_on_ast_tree: ClassVar[bool] = False
    # Its reports inside a top-level function follow from that function's code, what its
    # names lead to (by name: other statements, summaries, the index) and the facts it
    # reads; walking the function leaves nothing in the rule that its other reports or
    # ``finish`` read. Then an editor keeps them while edits elsewhere leave all of that
    # as it was (see ``core.kept_reports``), and does not call the rule in the function.
    function_local: ClassVar[bool] = False
    # Rules that consult other modules through ctx.index; their cached results are keyed
    # on the summaries they read, so an edit elsewhere invalidates them.
    VALID: ClassVar[list[Example]] = []
    INVALID: ClassVar[list[Example]] = []

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx

    def finish(self) -> None:
        """Called once after the traversal; report anything collected along the way."""

    @classmethod
    def check_noqa(
        cls, path: str, comments: NoqaComments, silenced: Mapping[int, Set[str]], ran: Set[str]
    ) -> list[Diagnostic]:
        """Findings about the ``# noqa`` comments themselves (PF001), made once the other
        rules' findings are known: ``silenced`` maps a line to the codes its ``# noqa``
        silenced, ``ran`` holds the codes of the rules that ran to the end on this file."""
        return []

    @classmethod
    def applies(cls, settings: Any) -> bool:
        """Whether the rule has anything to say about code checked with ``settings``."""
        return True

    @classmethod
    def handlers(cls) -> dict[str, list[tuple[str, str]]]:
        """Map ``"visit"``/``"leave"`` to (node class name, method name) pairs (found once
        per class: every file's check asks)."""
        found = _HANDLERS.get(cls)
        if found is None:
            found = {"visit": [], "leave": []}
            for attr in dir(cls):
                match = _HANDLER.match(attr)
                if match and callable(getattr(cls, attr)):
                    found[match.group(1)].append((match.group(2), attr))
            _HANDLERS[cls] = found
        return found

    @classmethod
    def doc(cls) -> str:
        """The rule's Markdown documentation, with a title line."""
        body = inspect.cleandoc(cls.__doc__ or "")
        return f"# {cls.code} {cls.name}\n\n{cls.summary}\n\n{body}\n"


_HANDLERS: dict[type[Rule], dict[str, list[tuple[str, str]]]] = {}

RuleHandler = Callable[[Any], Any]
