"""Source text: bytes decoded as Python reads them, parsed with libcst, or one PF000.

Pure functions: no file is read here (callers pass the bytes), nothing is printed.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import re
import sys
import threading
import tokenize
import types
import warnings
from contextlib import contextmanager
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING, Callable, Iterator

from pitfalls.core.diagnostics import Diagnostic, Position, Severity

if TYPE_CHECKING:
    import libcst as cst

    from pitfalls.core.reparse import Accept, Splice

NEWLINE = re.compile(r"\r\n?|\n")
_LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


class ParseFailure(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def parse_error(path: str, message: str, line: int = 1, column: int = 0) -> Diagnostic:
    return Diagnostic(
        code="PF000",
        message=message,
        path=path,
        start=Position(line, column),
        end=Position(line, column),
        severity=Severity.ERROR,
    )


_COOKIE_LINES_BYTES = 64 * 1024  # far more than the two lines a cookie may be on


def source_encoding(data: bytes) -> str:
    """The file's declared encoding (PEP 263), UTF-8 by default; 'utf-8-sig' with a BOM.

    Raises SyntaxError for a declaration Python itself refuses (an unknown encoding)."""
    # CPython ends a line at a lone CR too (tokenize's readline does not): a cookie after
    # one is on the second line, and counts.
    head = data[:_COOKIE_LINES_BYTES].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(head).readline)
    except SyntaxError as exc:
        if str(exc).startswith(("unknown encoding", "encoding problem")):
            raise
        return "utf-8"  # undecodable first lines: reported when the text is decoded
    return encoding


def decode(path: str, data: bytes) -> str:
    """Source bytes to text as Python would read them; a clear PF000 when that fails."""
    if b"\x00" in data:
        raise ParseFailure(parse_error(path, "not a Python source file: it contains NUL bytes"))
    try:
        encoding = source_encoding(data)
    except SyntaxError as exc:
        raise ParseFailure(parse_error(path, f"cannot decode file: {exc}")) from None
    try:
        return data.decode(encoding)
    except LookupError:
        raise ParseFailure(parse_error(path, f"unknown source encoding '{encoding}'")) from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        name = "UTF-8" if encoding.startswith("utf-8") else encoding
        raise ParseFailure(
            parse_error(path, f"file is not valid {name} (byte {exc.start}, line {line}): {exc.reason}", line)
        ) from None
    except UnicodeError as exc:  # a codec that fails without saying where (punycode, idna)
        raise ParseFailure(parse_error(path, f"cannot decode file as '{encoding}': {exc}")) from None


# A line this long may hide nesting that libcst's native parser handles badly; so may
# brackets or unary operators piled up over short lines.
# (Patterns that start with a literal character, so the engine skips ahead cheaply.)
_LONG_LINE = 1000
_NOT_BRACKET = re.compile(r"[^()\[\]{}]+")
_UNARY_RUN = re.compile(r"[-+~](?:\s*[-+~]){99}|not(?:\s+not\b){99}")
_SUSPECT_DEPTH = 100  # CPython itself refuses 200 nested brackets

# How deep a syntax tree pitfalls analyses. Python compiles expressions nested about 3,000
# levels deep; libcst needs seconds per file from about a thousand (a[0][0]...: 2 s at
# 1,000, 20 s at 3,000) and its recursive code generation a deep Python stack.
MAX_DEPTH = 1000
_ENGINE_RECURSION_LIMIT = 20_000  # frames for trees MAX_DEPTH deep (a few per level)
_PYTHON_RECURSION_LIMIT = 1000  # CPython's default: compile() judges the file under it


@contextmanager
def _recursion_limit(limit: int) -> Iterator[None]:
    """Run with ``limit``, then restore. Only the engine (one thread) recurses deeply, so
    lowering the limit briefly cannot starve another thread."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def python_refuses(path: str, source: str | ast.Module, flags: int = 0) -> Diagnostic | None:
    """PF000 when CPython itself refuses to compile ``source`` (never run: ``compile`` only
    builds code objects), with its message and position; None when it compiles.

    This is the verdict ``import`` would give, with the interpreter pitfalls runs on; it
    costs a few percent of a libcst parse. ``source`` may be the text's ``ast`` tree
    already parsed: compiling it skips the parse (``compile`` of a text is ``ast.parse``
    then this), and the verdict on what parsed is the same. ``flags``: the ``__future__``
    features in force (a statement of a module that imports them)."""
    try:
        with warnings.catch_warnings(), _recursion_limit(_PYTHON_RECURSION_LIMIT):
            warnings.simplefilter("ignore")  # SyntaxWarnings are not errors
            # No file name: CPython would read the named file from disk to place the error,
            # and the text checked may be an unsaved buffer.
            compile(source, "", "exec", flags=flags, dont_inherit=True)
    except SyntaxError as exc:
        line, column = exc.lineno or 1, max((exc.offset or 1) - 1, 0)
        return parse_error(path, f"syntax error: {exc.msg}", line, column)
    except (RecursionError, MemoryError):
        return parse_error(path, "syntax error: nested too deeply for Python's compiler")
    except ValueError as exc:  # e.g. a NUL character
        return parse_error(path, f"syntax error: {exc}")
    return None


def too_deep(path: str, source: str) -> Diagnostic | None:
    """PF000 for code nested deeper than :data:`MAX_DEPTH`, which Python compiles but
    pitfalls does not analyse.

    Only suspects are measured (very long lines, a hundred brackets deep, a hundred unary
    operators in a row, counted naively), so ordinary code pays next to nothing."""
    suspect = (
        max(map(len, source.split("\n"))) >= _LONG_LINE
        or bracket_depth(source) >= _SUSPECT_DEPTH
        or (_unary_operators(source) >= _SUSPECT_DEPTH and _UNARY_RUN.search(source))
    )
    if not suspect:
        return None
    try:
        depth = _tree_depth(parse_quietly(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # compile() accepted it; let libcst judge
    if depth <= MAX_DEPTH:
        return None
    return parse_error(path, f"not checked: code nested {depth:,} levels deep, over the limit of {MAX_DEPTH:,}")


def _unary_operators(source: str) -> int:
    """How many characters could be unary operators or ``not`` (counted in C: the search
    for a hundred in a row is slow on the rulers comments are drawn with)."""
    return max(source.count("-") + source.count("+") + source.count("~"), source.count("not"))


def parse_quietly(source: str, mode: str = "exec") -> ast.AST:
    """``ast.parse``, without the SyntaxWarnings (invalid escapes) it would print: they
    are not errors, and the text checked is somebody else's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source, "", mode)


def allow_engine_recursion() -> None:
    """Raise the process' recursion limit for what works on a tree: code generation,
    positions and fixes recurse once per level of it."""
    if sys.getrecursionlimit() < _ENGINE_RECURSION_LIMIT:
        sys.setrecursionlimit(_ENGINE_RECURSION_LIMIT)


def _grammar_error(source: str) -> bool:
    """Whether Python's parser (not its compiler) refuses ``source``."""
    try:
        parse_quietly(source)
    except SyntaxError:
        return True
    except (ValueError, RecursionError, MemoryError):
        return False
    return False


def _tree_depth(tree: ast.AST) -> int:
    deepest = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def bracket_depth(source: str) -> int:
    """The deepest bracket nesting, counting brackets in strings and comments too: an
    upper bound for well-formed text, cheap (only the brackets are walked); 0 for text of
    fewer than a hundred brackets."""
    brackets = _NOT_BRACKET.sub("", source)
    if len(brackets) < _SUSPECT_DEPTH:
        return 0
    return max(accumulate(1 if c in "([{" else -1 for c in brackets))


_GLOBAL = re.compile(r"\bglobal\b")


def _ties_statements(source: str) -> bool:
    """Whether CPython's verdict on one top-level statement of ``source`` may depend on
    another's: a ``global`` statement may (a module-level one must precede the name's
    uses). Judged by the word, so a comment naming it counts too. (``from __future__``
    imports, which must come first and change what compiles, are the re-parse's care: see
    :func:`~pitfalls.core.reparse.reparse`.)"""
    first = source.find("global")  # (the regex, from the first one: a keystroke asks of the whole text)
    return first >= 0 and _GLOBAL.search(source, first) is not None


def parse(
    path: str,
    source: str,
    python: tuple[int, int] | None = None,
    reuse: Callable[[str, Accept | None], Splice | None] | None = None,
) -> cst.Module:
    """libcst's tree of ``source``; ParseFailure (one PF000) when Python refuses the code,
    or when pitfalls cannot analyse code Python accepts (too deep, or beyond libcst).

    ``python``: the oldest Python the project admits. When it is newer than the Python
    running pitfalls, grammar this one does not know yet (``except A, B:`` of 3.14) is left
    to libcst's grammar, which follows the newest Python; errors of meaning (``return``
    outside a function) are still CPython's.

    ``reuse(source, accept)``: gives the tree of ``source`` re-parsed in place from an
    earlier text that CPython compiled (an edit), with the text of the whole statements it
    re-parsed (which ``accept``, when given, must accept before libcst parses them, under
    the module's ``__future__`` flags); or None. When those statements compile on their
    own, the whole text does (each top-level statement's verdict is its own under those
    flags, unless a ``global`` statement ties them), and it is not compiled again: most
    of a keystroke's compile. So is its depth: the text's is its deepest statement's, and
    the others were measured when the earlier text was parsed.

    Raises the process' recursion limit for what follows: code generation, positions and
    fixes recurse once per level of the tree."""
    splice, asked, deferred = None, False, None
    if reuse is not None and (python is None or python <= sys.version_info[:2]) and not _ties_statements(source):
        splice, asked = reuse(
            source, lambda piece, flags: python_refuses(path, piece, flags) is None and too_deep(path, piece) is None
        ), True
    if splice is None:
        refused = python_refuses(path, source)
        if refused is not None and python is not None and python > sys.version_info[:2] and _grammar_error(source):
            refused, deferred = None, refused  # perhaps newer grammar: libcst decides
        refused = refused or too_deep(path, source)
        if refused is not None:
            raise ParseFailure(refused)
    allow_engine_recursion()
    if reuse is not None and deferred is None:
        if not asked:
            splice = reuse(source, None)
        if splice is not None:
            return splice.module
    import libcst as cst  # here, not above: a run whose results are all cached never parses

    try:
        return parse_module(source)
    except cst.ParserSyntaxError as exc:
        if deferred is not None:  # not newer grammar after all: CPython's verdict
            raise ParseFailure(deferred) from None
        where = f"line {exc.editor_line}, column {exc.editor_column}"
        message = f"not checked: libcst cannot parse this file, which Python compiles ({where})"
        raise ParseFailure(parse_error(path, message, exc.editor_line, max(exc.editor_column - 1, 0))) from None
    except (RecursionError, MemoryError, ValueError) as exc:  # pathological input
        raise ParseFailure(parse_error(path, f"not checked: libcst cannot parse this file ({type(exc).__name__})")) from None


class _Parsing(threading.local):
    active = False
    # Nodes made from CPython's tree (``core.ast_tree``): a field left to its default
    # whitespace or token node takes one made once (those trees' formatting is never placed).
    converting = False


_parsing = _Parsing()


def _validate_unless_parsing(node: cst.CSTNode) -> None:
    """libcst's ``CSTNode.__post_init__``, which validates every node made, except the
    nodes its parser makes in this thread: the parser makes only valid ones, and the
    checks cost a tenth of a parse or more (libcst's own comment there calls them a cost)."""
    if not _parsing.active:
        node._validate()


# Compiling the quicker constructors costs what they save on about this much parsed
# text: a process installs them once it has parsed that much (one file checked before a
# commit does not).
CONSTRUCTORS_PAY_OFF_CHARS = 150_000
_parsed_chars = 0


def _constructor(node_type: type, n: int, scope: dict[str, object]) -> str | None:
    """The text of ``_init<n>``, an ``__init__`` for a libcst node class equal to its
    dataclass one but quicker (what it refers to put in ``scope``); None when the class is
    not as expected (it keeps its own).

    A frozen dataclass sets each field with ``object.__setattr__``, which looks the field
    up by name on every call; this one calls each field's slot setter directly, and
    validates the node (``__post_init__``) inline unless this thread's parser made it.
    A parse makes a node for every token and more: the parse takes 11% less time."""
    import libcst as cst

    params = getattr(node_type, "__dataclass_params__", None)
    if params is None or not params.init or "__init__" not in vars(node_type) or "__slots__" not in vars(node_type):
        return None
    fields = [f for f in dataclasses.fields(node_type) if f.init]
    code = node_type.__init__.__code__  # type: ignore[misc]
    names = [f.name for f in fields]
    if code.co_kwonlyargcount or names != list(code.co_varnames[1 : code.co_argcount]) or any(x.startswith("_") for x in names):
        return None  # init-only variables, keyword-only fields, names this would shadow
    params_text, body = [], []
    for i, f in enumerate(fields):
        slot = next((vars(k)[f.name] for k in node_type.__mro__ if f.name in vars(k)), None)
        if type(slot) is not types.MemberDescriptorType:
            return None
        scope[f"_set{n}_{i}"] = slot.__set__  # type: ignore[attr-defined]
        value = f.name
        if f.default is not dataclasses.MISSING:
            scope[f"_default{n}_{i}"] = f.default
            params_text.append(f"{f.name}=_default{n}_{i}")
        elif f.default_factory is not dataclasses.MISSING:
            scope[f"_factory{n}_{i}"] = f.default_factory
            params_text.append(f"{f.name}=_MISSING")
            made = f"_factory{n}_{i}()"
            shared = f.default_factory()
            if isinstance(shared, cst.CSTNode):
                scope[f"_shared{n}_{i}"] = shared
                made = f"(_shared{n}_{i} if _parsing.converting else {made})"
            value = f"{made} if {f.name} is _MISSING else {f.name}"
        else:
            params_text.append(f.name)
        body.append(f"_set{n}_{i}(self, {value})")
    if node_type.__post_init__ is _validate_unless_parsing:  # type: ignore[attr-defined]
        body.append("if not _parsing.active: self._validate()")
    else:
        body.append("self.__post_init__()")
    return f"def _init{n}(self, {', '.join(params_text)}):\n    " + "\n    ".join(body) + "\n"


def _install_constructors() -> None:
    """The quicker constructors of :func:`_constructor` on every libcst node class, compiled
    together (some 15 ms: see :data:`CONSTRUCTORS_PAY_OFF_CHARS`)."""
    import libcst as cst

    scope: dict[str, object] = {"_MISSING": dataclasses.MISSING, "_parsing": _parsing}
    texts, node_types = [], []
    pending, seen = [cst.CSTNode], set()
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                pending.append(sub)
                text = _constructor(sub, len(node_types), scope)
                if text is not None:
                    texts.append(text)
                    node_types.append(sub)
    exec(compile("".join(texts), "<pitfalls: libcst node constructors>", "exec"), scope)
    for n, node_type in enumerate(node_types):
        init = scope[f"_init{n}"]
        init.__qualname__ = f"{node_type.__qualname__}.__init__"  # type: ignore[attr-defined]
        node_type.__init__ = init  # type: ignore[misc]


def parse_module(text: str) -> cst.Module:
    """``libcst.parse_module(text)``, without validating the nodes its parser makes.
    Nodes made by anything else (fixes, other threads) are validated as before."""
    import libcst as cst

    with unvalidated(len(text)):
        return cst.parse_module(text)


@contextmanager
def unvalidated(chars: int, *, converting: bool = False) -> Iterator[None]:
    """Nodes made in this thread meanwhile, by libcst's parser or by pitfalls from a tree
    CPython's parser made (``converting``), of code ``chars`` long, are not validated (both
    make valid nodes only); the quicker constructors are installed once they pay."""
    import libcst as cst

    global _parsed_chars
    if cst.CSTNode.__post_init__ is not _validate_unless_parsing:
        cst.CSTNode.__post_init__ = _validate_unless_parsing  # type: ignore[method-assign]
        from pitfalls.core.cst_identity import use_identity_slots

        use_identity_slots()  # before the first tree: no node is in a dictionary yet
    if _parsed_chars < CONSTRUCTORS_PAY_OFF_CHARS:
        _parsed_chars += chars
        if _parsed_chars >= CONSTRUCTORS_PAY_OFF_CHARS:
            _install_constructors()
    was, _parsing.active = _parsing.active, True
    was_converting, _parsing.converting = _parsing.converting, converting
    try:
        yield
    finally:
        _parsing.active, _parsing.converting = was, was_converting


def source_lines(source: str) -> list[str]:
    """Lines as Python counts them: only \\n, \\r\\n and \\r end a line (str.splitlines
    also splits at form feeds and U+2028, which would put noqa comments on the wrong line)."""
    return NEWLINE.split(source)


@lru_cache(maxsize=8)
def line_starts(text: str) -> tuple[int, ...]:
    """Offsets where each line starts, with Python's (and libcst's) idea of a newline.
    Without a ``\r`` only ``\n`` ends a line: one split, a third of the regex's time.
    Kept for the last texts: an editor's keystroke asks three times for the whole text's
    (its positions, its fixes, its LSP conversion)."""
    if "\r" in text:
        return (0, *(m.end() for m in NEWLINE.finditer(text)))
    return tuple(accumulate((len(line) + 1 for line in text.split("\n")[:-1]), initial=0))


def lines_with_ends(source: str) -> list[str]:
    """The lines of ``source`` with their endings, split where Python splits them."""
    return _LINE_WITH_END.findall(source)
