"""The syntactic walk (what the rules and summaries see) is the full walk without
whitespace and punctuation: nothing more is skipped, nothing of those is met."""

from __future__ import annotations

import collections
import textwrap

import dataclasses

import libcst as cst
from pitfalls.core.check import check_parsed, parse_file
from pitfalls.core.index import ProjectIndex
from pitfalls.core.rule import Rule
from pitfalls.core.walker import iter_nodes

# A field of each kind that holds only whitespace (a type's parameters, a call's
# parenthesis, an annotation's colon and arrow, `except*`, `while`, `match` patterns...).
SOURCE = textwrap.dedent(
    """\
    import os
    from typing import Generic


    def f[T](x: T, /, *args: int, key: str = "k", **kw: int) -> T:
        return print (x)  # a space before the call's parenthesis


    class C[T] (Generic[T]):
        value: int = 1


    async def g() -> None:
        while (x := await h()) :
            lambda  a, b = 1: a
        try:
            pass
        except* ValueError as exc:
            raise
        match x:
            case [1, *rest] if rest:
                pass
            case {"k": v, **others}:
                pass
            case C(value=1) | None:
                pass
        d = os.environ ["HOME"]; del d
        assert x, "message"
    """
)

TOKENS = frozenset(
    {
        cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.Newline, cst.Comment,
        cst.EmptyLine, cst.Comma, cst.AssignEqual, cst.ParamSlash, cst.LeftSquareBracket, cst.RightSquareBracket,
        cst.LeftParen, cst.RightParen, cst.Colon, cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.Dot,
        cst.Asynchronous, cst.Semicolon,
    }
)


def test_the_syntactic_walk_is_the_full_walk_without_tokens() -> None:
    module = cst.parse_module(SOURCE)
    syntactic = list(iter_nodes(module))
    every = list(iter_nodes(module, tokens=True))
    met = collections.Counter(type(node) for node in syntactic)
    for node_type, count in collections.Counter(type(node) for node in every).items():
        assert met[node_type] == (0 if node_type in TOKENS else count), node_type.__name__
    # In the same order: the syntactic walk is a subsequence of the full one.
    position = {id(node): i for i, node in enumerate(every)}
    order = [position[id(node)] for node in syntactic]
    assert order == sorted(order)


class _Recorder(Rule):
    """Notes every handler call; prunes lambdas and the bodies of `match` statements."""

    code, name, summary = "PF999", "recorder", "notes the walk"
    seen: list[tuple[str, str, object]] = []

    def _note(self, event: str, node: cst.CSTNode) -> None:
        self.seen.append((event, type(node).__name__, node.value if isinstance(node, cst.Name) else id(node)))

    def visit_Name(self, node: cst.Name) -> None:
        self._note("enter", node)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self._note("enter", node)
        return False

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self._note("leave", node)

    def visit_Match(self, node: cst.Match) -> bool:
        self._note("enter", node)
        return False

    def leave_Call(self, node: cst.Call) -> None:
        self._note("leave", node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._note("enter", node)


def test_an_editors_kept_walks_call_the_handlers_the_walk_calls() -> None:
    """A buffer's statements' walks, kept for its next edit, call the same handlers on
    the same nodes in the same order as the walk, pruning included, kept or not."""
    parsed = parse_file("m.py", SOURCE, name="m", edited=True, python=(3, 13))  # 3.12 syntax
    index = ProjectIndex([parsed.summary])
    runs = []
    for walks in (None, parsed.walks, parsed.walks):  # walked; flattened; the flat walks reused
        _Recorder.seen = []
        check_parsed(dataclasses.replace(parsed, walks=walks), index, [_Recorder])
        runs.append(_Recorder.seen)
    assert runs[0] == runs[1] == runs[2]
    names = {value for _, kind, value in runs[0] if kind == "Name"}
    assert {"os", "Generic", "print", "h", "x"} <= names and not names & {"a", "b", "rest", "v", "others"}  # pruned
    assert [kind for event, kind, _ in runs[0] if event == "leave"].count("Lambda") == 1
    # Each top-level statement's walk is kept, and each statement's of the class's block.
    assert set(parsed.walks) == {*parsed.module.body, *parsed.module.body[3].body.body}


SERVICE = textwrap.dedent(
    """\
    class Service:
        kind = "s"

        def first(self, items):
            return sorted(items, key=lambda item: item.rank)

        def second(self, x):
            match x:
                case [1, *rest]:
                    return print(rest)
            return print(x)

        def third(self):
            return os.getcwd()
    """
)


def test_a_class_walk_is_made_of_its_statements_walks() -> None:
    """An edit inside one method of a class walks that method again and reuses the other
    statements' walks; the handlers called are a full walk's, pruning included."""
    before = parse_file("m.py", SERVICE, name="m", edited=True)
    index = ProjectIndex([before.summary])
    check_parsed(before, index, [_Recorder])
    after = parse_file("m.py", SERVICE.replace("print(x)", "print(x, 1)"), name="m", previous=before, edited=True)
    old, new = before.module.body[0].body.body, after.module.body[0].body.body
    runs = []
    for walks in (after.walks, None):
        _Recorder.seen = []
        check_parsed(dataclasses.replace(after, walks=walks), index, [_Recorder])
        runs.append(_Recorder.seen)
    assert runs[0] == runs[1]
    assert [after.walks[stmt] is before.walks[stmt] for stmt in (new[0], new[1], new[3])] == [True, True, True]
    assert new[2] is not old[2] and after.walks[new[2]] is not before.walks[old[2]]
    names = {value for _, kind, value in runs[0] if kind == "Name"}
    assert {"sorted", "print", "os"} <= names and not names & {"item", "rest"}  # pruned


def test_what_an_editor_keeps_by_statement_is_only_the_statements_it_still_has() -> None:
    """Edits inside a class nested in a class: the walks (kept for statements at every depth
    of nested classes), node facts and report places of the statements they replaced go.
    Kept, they would hold old trees for as long as the buffer is edited."""
    source = "class A:\n    class B:\n        def f(self):\n            return 1\n\n        def g(self):\n            pass\n"
    parsed = parse_file("m.py", source, name="m", edited=True)
    check_parsed(parsed, ProjectIndex([parsed.summary]), [_Recorder])
    for n in range(2, 6):
        parsed = parse_file("m.py", source.replace("return 1", f"return {n}"), name="m", edited=True, previous=parsed)
        check_parsed(parsed, ProjectIndex([parsed.summary]), [_Recorder])
        present = {id(node) for node in parsed.module.body}
        stack = list(parsed.module.body)
        while stack:
            node = stack.pop()
            if isinstance(node, cst.ClassDef) and isinstance(node.body, cst.IndentedBlock):
                present.update(id(inner) for inner in node.body.body)
                stack += node.body.body
        for kept in (parsed.walks, parsed.node_facts, parsed.placements):
            assert kept is not None and {id(stmt) for stmt in kept} <= present, n
        assert len(parsed.walks) == len(present)  # type: ignore[arg-type]


_COMPUTED: list[str] = []


def _name_of(function: cst.FunctionDef) -> str:
    _COMPUTED.append(function.name.value)
    return function.name.value


class _AsksNodeFacts(Rule):
    code, name, summary = "PF998", "node-facts", "asks a node fact per function, twice"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        assert self.ctx.node_fact(_name_of, node) == self.ctx.node_fact(_name_of, node) == node.name.value


def test_node_facts_are_kept_for_the_statements_an_edit_left_alone() -> None:
    """``ctx.node_fact`` computes once per check; an editor's next edit reuses the answers
    for the statements it did not touch, and computes them for those it did."""
    source = "def a():\n    pass\n\n\ndef b():\n    return 1\n"
    parsed = parse_file("m.py", source, name="m", edited=True)
    index = ProjectIndex([parsed.summary])
    _COMPUTED.clear()
    check_parsed(parsed, index, [_AsksNodeFacts])
    assert _COMPUTED == ["a", "b"]
    edited = parse_file("m.py", source.replace("return 1", "return 2"), name="m", edited=True, previous=parsed)
    assert edited.module.body[0] is parsed.module.body[0]
    _COMPUTED.clear()
    check_parsed(edited, index, [_AsksNodeFacts])
    assert _COMPUTED == ["b"]
    _COMPUTED.clear()
    check_parsed(parse_file("m.py", source, name="m"), index, [_AsksNodeFacts])  # not an editor's
    assert _COMPUTED == ["a", "b"]


class _AsksTwice(Rule):
    """Asks what one attribute names when the walk meets it, and again at the `return`
    below it: an import in between changed the answer."""

    code, name, summary = "PF997", "asks-twice", "asks a qualified name at two points of the walk"
    answers: list[str | None] = []

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.node = node
        self.answers.append(self.ctx.qualified_name(node))
        self.answers.append(self.ctx.qualified_name(node))  # asked again at once: the same

    def visit_Return(self, node: cst.Return) -> None:
        self.answers.append(self.ctx.qualified_name(self.node))


def test_qualified_names_follow_the_bindings_the_walk_records() -> None:
    """The context remembers its answers about a node only while no binding changes."""
    parsed = parse_file("m.py", "def f():\n    dumps = json.dumps\n    import json\n    return dumps\n", name="m")
    _AsksTwice.answers = []
    check_parsed(parsed, ProjectIndex([parsed.summary]), [_AsksTwice])
    assert _AsksTwice.answers == [None, None, "json.dumps"]


class _AsksInstance(Rule):
    """Asks what class the value of a name is an instance of where the name is read, and
    again at the `return`: the name was rebound in between."""

    code, name, summary = "PF996", "asks-instance", "asks an instance's class at two points of the walk"
    answers: list[str | None] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Name):
            self.node = node.value
            self.answers.append(self.ctx.class_of_instance(node.value))
            self.answers.append(self.ctx.class_of_instance(node.value))

    def visit_Return(self, node: cst.Return) -> None:
        self.answers.append(self.ctx.class_of_instance(self.node))


def test_instance_classes_follow_the_bindings_the_walk_records() -> None:
    source = "class A:\n    pass\n\n\nclass B:\n    pass\n\n\ndef f():\n    x = A()\n    y = x\n    x = B()\n    return y\n"
    parsed = parse_file("m.py", source, name="m")
    _AsksInstance.answers = []
    check_parsed(parsed, ProjectIndex([parsed.summary]), [_AsksInstance])
    assert _AsksInstance.answers == ["m.A", "m.A", "m.B"]


def test_nodes_hash_and_compare_by_identity_through_objects_slots() -> None:
    """libcst's own identity methods are Python functions; the engine swaps in object's
    before it makes its first tree."""
    parse_file("m.py", "x = 1\n", name="m")
    a, b = cst.Name("x"), cst.Name("x")
    assert a == a and a != b and not a == b and len({a, b}) == 2 and {a: 1}[a] == 1
    assert a in [b, a] and b not in [a]
    assert all(cls.__hash__ is object.__hash__ and cls.__eq__ is object.__eq__ for cls in (cst.CSTNode, cst.Name, cst.Module, cst.ClassDef))
