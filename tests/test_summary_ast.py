"""The ast summary builder gives the libcst builder's summary, field for field: on written
cases that stress the texts kept as written and the order of what a method reads, and on
every file of the ecosystem projects (``../shared/ecosystem``, present in CI); and the tree
made from ast (``ast_tree``) is the one libcst parses, as the rules walk it."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import pytest
from conftest import unpack_ecosystem
import libcst as cst
from pitfalls.core.ast_tree import AstPositions, NotPlaced, Unconvertible, module_from_ast
from pitfalls.core.positions import Positions
from pitfalls.core.source import ParseFailure, decode, parse, parse_quietly
from pitfalls.core.summary import summarize
from pitfalls.core.summary_ast import summarize_source
from pitfalls.core.walker import children_reversed
from pitfalls.project.analyzer import Analyzer
from pitfalls.project.pool import KEPT_SOURCE_CHARS, FileTask, Summarise


CASES = {
    "parentheses and brackets as written": '''
        from typing import Dict, Generic, TypeVar
        T = TypeVar("T")
        class A((Base)): pass
        class B(Generic[(T)], ( Mixin ), metaclass=M): pass
        class C(Base[(T, int)], Other[T, (int)], X[1:2, T], *extra): pass
        class D(
            Base,  # why
        ):
            x: (int) = (3)
            y: Dict[
                # keys
                str,

              int] = (
                1)
            z: int = 1, 2,  # a tuple
            s: str = """two
                lines"""
            c: "Lis" "t[int]" = \\
                4
            def method(self, a: (int), *rest: Dict[
                    str, int], key: "A" = 1, **kw: int) -> "Optional[B]": ...
        class E(Base,): pass
        class F(( # c
            Base)): pass
    ''',
    "elif, else-if and one-line suites": '''
        import typing
        if typing.TYPE_CHECKING:
            import a
        elif TYPE_CHECKING:
            import b
        elif __name__ == "__main__":
            import c
        else:
            if __name__ == "__main__":
                import d
            import e
        try:
            import f
        except ImportError:
            import g
        else:
            import h
        finally:
            import i
        class One: x: int = 1; y = "s"
        class Continued: \\
            x: int = 1
        class Two:
            def f(self): import j
            def g(self):
                try:
                    import k
                except E:
                    import l
                else:
                    import m
        with open(x) as fh: import n
        for q in r: pass
    ''',
    "assignments": '''
        from sqlalchemy.orm import relationship as rel
        NAMES = frozenset(["a", "b"])
        ALL = ("a" "b", 'c')
        __all__ = ["X"]
        BYTES = b"x"
        NONE = None
        FLAG = True
        Alias = some.module.Name
        T = typing.TypeVar("T", default=int)
        S = sessionmaker(bind=e, class_=AsyncSession, **more)
        x = y = "text"
        a, b = 1, 2
        obj.attr = 1
        F = f"{x}"
        class M:
            items = rel("Item", lazy="joined")
            more = rel("Item", sa_relationship_kwargs={"lazy": "selectin"})
            other: Mapped["X"] = rel(lazy=True)
            odd = rel(**kw)
            NAME = "m"
            a = b = 2
    ''',
    "what methods read, set and call, in order": '''
        class S(Base):
            def __init__(self, a, *args, b=1, **kw):
                super().__init__(a)
                self.x = self.y if self.z else self.w
                self.d = {self.k1: self.v1, **self.more, self.k2: self.v2}
                f(self.p, *self.star, key=self.kw, *self.late)
                self.n += self.m
                self.t: int = self.u
                self.only: int
                (self.e, [self.f, *self.g]) = self.h
                for self.i in self.j: self.body()
                with self.ctx() as (self.cx, other): pass
                del self.gone
                setattr(self, "named", 1)
                object.__setattr__(self, name, 2)
                self.__setattr__(value=3, name="kw")
                vars(self).update(kw)
                [self.comp for self.c in self.src if self.cond]
                def inner(q=self.default, *, r: self.ann = self.kdefault):
                    return self.closure
                lambda s=self.lam: s
                @self.deco
                class Inner(self.base, metaclass=self.meta): pass
                Base.__init__(self, self.later)
            @staticmethod
            def st(self): self.no = 1
            async def gen(self) -> AsyncGenerator[Session, None]:
                async with make() as session:
                    yield session
            async def gen2(self) -> AsyncIterator[(A, B)]:
                yield build()
            async def coro(this): this.q = await this.r
            def handled(self, p=self, /, q=1):
                try:
                    pass
                except self.error as e:
                    self.handler()
                match self.subject:
                    case {self.key: [self.pattern]} if self.guard:
                        self.case()
                    case Point(self.px, y=self.py):
                        self.point()
            def nested(self):
                def inner(a=self.one, /, b=self.two, *c: self.star, d=self.three, **e: self.kw): pass
    ''',
    "annotations": '''
        from typing import Annotated, Optional, Union
        class P:
            a: Optional[int] = None
            b: Union[int, None] = Field(...)
            c: int | None = Field(default=...)
            d: "int | None" = Field(None)
            e: Annotated[Model, "x"] = Field(default_factory=list)
            f: None | str
            g: Union[(int, None)]
            h: list[*Ts]
            i: "Dict[str, 'Model']" = Field(*args)
            j: "" = 1
            k: " int" = 2
        def r1() -> None: ...
        def r2() -> "Optional[Model]": ...
        def r3() -> Annotated[Model | None, 1]: ...
        def r4() -> b"x": ...
        def r5() -> "a" "b": ...
    ''',
    "non-ASCII text and CRLF": 'class U(Basé[\r\n    "ü"]):\r\n    x: "Ünïcode" = "é"  # ç\r\n    y: Dict[\r\n        str, int]\r\n',
}


WHERE = {"name": "pkg.mod", "path": "pkg/mod.py", "root": "", "is_package": False}


def both(source: str) -> tuple[object, object]:
    """The libcst builder's summary of ``source``, and the ast one's."""
    return summarize(parse("mod.py", source), source=source, **WHERE), summarize_source(source, display="mod.py", **WHERE)


@pytest.mark.parametrize("case", CASES)
def test_written_cases(case: str) -> None:
    source = textwrap.dedent(CASES[case]).lstrip("\n")
    expected, got = both(source)
    assert got == expected


def test_every_file_of_the_ecosystem_projects(tmp_path: Path) -> None:
    """Phase 1's way (``summarize_source``, and the tree of ``ast_tree``) against the libcst
    builder and libcst's tree, file by file; a file the ast builder leaves to libcst (None)
    is one libcst refuses too. The trees: the same nodes in the same order, as the rules'
    walk meets them (literals as written); and the nodes ast places, where libcst does.
    About 60 s: the libcst parses dominate
    (``bench/summaries.py`` prints the counts and times)."""
    unpack_ecosystem(tmp_path)
    warnings.simplefilter("ignore")  # the invalid escapes literals' values come with
    compared, differing, trees_differing, unconvertible = 0, [], [], 0
    placed, misplaced = 0, []
    for path in sorted(tmp_path.rglob("*.py")):
        source = decode(str(path), path.read_bytes())
        got = summarize_source(source, display=str(path), **WHERE)
        try:
            module = parse(str(path), source)
        except ParseFailure:
            assert got is None
            continue
        compared += 1
        if got != summarize(module, source=source, **WHERE):
            differing.append(str(path.relative_to(tmp_path)))
        try:
            converted, places = module_from_ast(parse_quietly(source), source)
        except Unconvertible:
            unconvertible += 1
            continue
        if walked(converted) != walked(module):
            trees_differing.append(str(path.relative_to(tmp_path)))
        else:
            placed += placed_alike(converted, places, module, source, misplaced, str(path.relative_to(tmp_path)))
    assert compared > 2000 and unconvertible < 20  # `match` statements, `{x=}`
    assert differing == []
    assert trees_differing == []
    assert placed > 100_000 and misplaced == []


def placed_alike(
    converted: cst.Module, places: AstPositions, module: cst.Module, source: str, misplaced: list[str], where: str
) -> int:
    """How many nodes ``places`` places in ``converted``, each where libcst's positions
    place its counterpart in ``module`` (the two trees' walks pair them; those differing
    are added to ``misplaced``)."""
    positions = Positions(module, source)
    count = 0
    for ours, theirs in zip(nodes(converted), nodes(module), strict=True):
        try:
            got = places.range(ours)
        except NotPlaced:
            continue
        count += 1
        if got != positions.range(theirs):
            misplaced.append(f"{where}: {type(ours).__name__} at {got}, libcst: {positions.range(theirs)}")
    return count


def nodes(module: cst.Module) -> list[cst.CSTNode]:
    """The nodes the rules' walk meets (see walked), in order."""
    out: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        out.append(node)
        if type(node) not in _LEAVES:
            stack.extend(children_reversed(node))
    return out


_LEAVES = (cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.FormattedStringText)


def walked(module: cst.Module) -> list[tuple[object, ...]]:
    """What the rules' walk meets: each node's type in order, with a name's, a literal's
    and an f-string's text as written."""
    out: list[tuple[object, ...]] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind in _LEAVES:
            out.append((kind.__name__, node.value))  # type: ignore[attr-defined]
            continue
        out.append((kind.__name__,))
        stack.extend(children_reversed(node))
    return out


def test_phase_one_keeps_no_libcst_tree_for_files_only_summarised(tmp_path: Path) -> None:
    """A worker summarises a file it will not check from ast (the same summary, no tree
    kept for phase 2); a file Python refuses gets the same PF000 either way."""
    (tmp_path / "good.py").write_text(textwrap.dedent(CASES["parentheses and brackets as written"]))
    (tmp_path / "bad.py").write_text("def f(:\n")
    analyzer = Analyzer(KEPT_SOURCE_CHARS)
    tasks = [
        FileTask(str(tmp_path / name), name, name[:-3], str(tmp_path), False, 1.0, None, checked)
        for name in ("good.py", "bad.py") for checked in (True, False)
    ]
    good_checked, good_summarised, bad_checked, bad_summarised = analyzer.handle(Summarise(tasks))
    assert good_summarised.summary == good_checked.summary
    assert good_summarised.fingerprint == good_checked.fingerprint
    assert bad_summarised.failure == bad_checked.failure is not None
    assert list(analyzer.trees) == [str(tmp_path / "good.py")]


@pytest.mark.parametrize(
    "source",
    [
        "return 1\n",  # the parser accepts these; the compiler does not
        "nonlocal x\n",
        "x = 1\nglobal x\n",
        "await job()\n",
        "x = f" + "()" * 1500 + "\n",  # nested deeper than pitfalls analyses
    ],
)
def test_what_python_refuses_is_left_to_libcst(source: str) -> None:
    """The ast tree is compiled (not the text again): what CPython refuses, or what is
    too deep, gets no ast summary, and the file's PF000 comes from the libcst path."""
    assert summarize_source(source, display="m.py", name="m", path="/p/m.py", root="/p", is_package=False) is None
    with pytest.raises(ParseFailure):
        parse("m.py", source)


@pytest.mark.parametrize(
    ("source", "dynamic"),
    [
        ("x = globals()\n", True),
        ("vars( )['a'] = 1\n", True),
        ("def f():\n    locals()\n", True),
        ("exec (code)\n", True),
        ("import sys\nsys.modules[__name__].x = 1\n", True),
        ("def f():\n\tglobal\tcounter\n", True),
        ("myglobals()\n", False),  # another name that ends like one
        ("_exec(code)\nrunexec (code)\n", False),
        ("vars(obj)\n", False),  # an object's attributes, not the module's
        ("sys.modulesx = 1\n", False),
        ("a = 1; global_x = 2\n", False),
        ('"""The global state."""\nx = "global y"\n', False),  # a word, not a statement
        ("x = 1\r global y\n", False),  # `^` is after a newline only
    ],
)
def test_what_binds_module_names_dynamically(source: str, dynamic: bool) -> None:
    """A module that may bind names no statement shows (its summary's ``open_names``)."""
    from pitfalls.core.summary_data import _binds_dynamically

    assert _binds_dynamically(source) is dynamic
