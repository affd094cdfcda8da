"""``# noqa`` comments: the one parser and the one line mapping behind suppression,
``--add-noqa``, the editor's noqa action, hover and PF001 (unused ``# noqa`` codes).

``# noqa`` alone silences every code on its line; ``# noqa: PF101, PF404`` those codes. A
line that cannot hold a comment (it ends inside a multi-line string, or a backslash
continues it) takes its ``# noqa`` at the end of the line where the string or the logical
line ends, as in Ruff. A comment line ``# pitfalls: noqa`` silences the whole file;
``# pitfalls: noqa: PF101`` only those codes. Comments are found with the tokenizer, so a
``# noqa`` inside a string is text, not a directive.
"""

from __future__ import annotations

import bisect
import re
import tokenize
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass
from functools import cached_property

from pitfalls.core.source import line_starts, lines_with_ends, source_lines

_CODES = r"[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*"
NOQA = re.compile(rf"#\s*noqa(?::[\s]?(?P<codes>{_CODES}))?", re.I)
# At the start of a comment that is alone on its line; a code list that does not parse
# makes it no exemption at all (a typo must not silence the whole file).
FILE_NOQA = re.compile(rf"#\s*pitfalls\s*:\s*noqa(?::\s*(?P<codes>{_CODES}))?(?=\s|$)", re.I)
_CODE = re.compile(r"[A-Za-z]+[0-9]+")
OUR_CODE = re.compile(r"PF[0-9]+")


@dataclass(frozen=True)
class Directive:
    """One ``# noqa`` comment on a line: ``codes`` None for a bare one (every code)."""

    codes: frozenset[str] | None
    start: int  # column of its `#`
    codes_start: int  # column where the code list starts (the comment's end when bare)
    codes_end: int
    spans: tuple[tuple[int, int, str], ...] = ()  # (start, end, CODE) of each code named

    def covers(self, code: str) -> bool:
        return self.codes is None or code in self.codes


def directives(line: str, start: int = 0) -> list[Directive]:
    """The ``# noqa`` directives of ``line`` from column ``start`` (where its comment starts)."""
    if "#" not in line:
        return []
    found = []
    for match in NOQA.finditer(line, start):
        if match.group("codes") is None:
            found.append(Directive(None, match.start(), match.end(), match.end()))
            continue
        base = match.start("codes")
        spans = tuple((base + c.start(), base + c.end(), c.group(0).upper()) for c in _CODE.finditer(match.group("codes")))
        found.append(Directive(frozenset(s[2] for s in spans), match.start(), base, match.end("codes"), spans))
    return found


def code_spans(line: str) -> list[tuple[int, int, str]]:
    """(start, end, CODE) of every code named in the line's ``# noqa:`` lists (for hover)."""
    return [span for directive in directives(line) for span in directive.spans]


@dataclass(frozen=True)
class SegmentTokens:
    ends: list[int] | None  # lines that can end with a comment, ascending; None: not tokenizable
    comments: dict[int, int]  # line -> column where its comment starts


class NoqaComments:
    """A text's ``# noqa`` comments, and the line each line's ``# noqa`` goes on. Built once
    per text; the tokenizer only runs when the text mentions noqa or a noqa is added, and
    then, when ``starts`` gives the lines the top-level statements start on (where the
    tokenizer starts afresh), only over the statements asked about: a keystroke in a long
    file with one ``# noqa`` does not tokenize the whole file. ``known``: the
    :attr:`tokenized` segments of an earlier text of the file (an editor's last
    keystroke), taken where a segment's text is the same: it tokenizes the same."""

    def __init__(
        self,
        source: str,
        starts: Callable[[], list[int] | None] | None = None,
        known: Mapping[str, SegmentTokens] | None = None,
    ) -> None:
        self.source = source
        self.mentioned = re.search("noqa", source, re.I) is not None
        self._starts = starts
        self._segments: dict[int, SegmentTokens] = {}  # a segment's first line -> its tokens' facts
        self._known = known or {}
        # A segment's text -> its tokens' facts, counting lines from its first: for the next text's.
        self.tokenized: dict[str, SegmentTokens] = {}

    @cached_property
    def lines(self) -> list[str]:
        return source_lines(self.source)

    @cached_property
    def _lines_with_ends(self) -> list[str]:
        return lines_with_ends(self.source)

    @cached_property
    def _scan(self) -> SegmentTokens:
        """The whole text's."""
        return _tokenize(self._lines_with_ends, 1)

    @cached_property
    def _bounds(self) -> list[int] | None:
        """The first lines of the segments tokenized on their own; None: the whole text."""
        starts = self._starts() if self._starts is not None else None
        return None if starts is None else sorted({1, *starts})

    def _scan_of(self, line1: int) -> SegmentTokens:
        """The tokens' facts of the segment holding line ``line1``."""
        bounds = self._bounds
        at = -1 if bounds is None else bisect.bisect_right(bounds, line1) - 1
        if bounds is None or at < 0:
            return self._scan
        first = bounds[at]
        scan = self._segments.get(first)
        if scan is None:
            last = bounds[at + 1] - 1 if at + 1 < len(bounds) else None
            lines = self._lines_with_ends[first - 1 : last]
            text = "".join(lines)
            own = self.tokenized[text] = self._known.get(text) or self.tokenized.get(text) or _tokenize(lines, 1)
            if own.ends is None:  # not a statement's start after all: the whole text from now on
                self._bounds = None
                return self._scan
            shift = first - 1
            ends = [line + shift for line in own.ends]
            scan = SegmentTokens(ends, {line + shift: column for line, column in own.comments.items()})
            self._segments[first] = scan
        return scan

    def target(self, line1: int) -> int | None:
        """The line whose ``# noqa`` applies to line ``line1``: itself, or where the string
        or backslash-continued line it is part of ends. None when that is not known."""
        ends = self._scan_of(line1).ends
        if ends is None:
            return line1 if 1 <= line1 <= len(self.lines) else None
        # A segment that tokenized ends every line in it (an unclosed string or bracket
        # would have stopped the tokenizer): none found is a line past the text's end.
        at = bisect.bisect_left(ends, line1)
        return ends[at] if at < len(ends) else None

    def directives(self, line1: int) -> list[Directive]:
        """The ``# noqa`` directives in the comment of line ``line1`` itself."""
        if not self.mentioned or not 1 <= line1 <= len(self.lines):
            return []
        line = self.lines[line1 - 1]
        if NOQA.search(line) is None:
            return []
        scan = self._scan_of(line1)
        if scan.ends is None:  # no tokens: any `# noqa` on the line counts, as Ruff's regex does
            return directives(line)
        column = scan.comments.get(line1)
        return [] if column is None else directives(line, column)

    def silenced_at(self, line1: int, code: str) -> int | None:
        """The line whose ``# noqa`` silences ``code`` reported on line ``line1``, if any."""
        if not self.mentioned or not self._may_hold_noqa(line1):
            return None
        target = self.target(line1)
        if target is not None and any(d.covers(code) for d in self.directives(target)):
            return target
        return None

    @cached_property
    def noqa_lines(self) -> list[int]:
        """The lines whose text holds a ``# noqa`` (in a comment or not): looked for only on
        the lines that say noqa (a long file has a few)."""
        if not self.mentioned:
            return []
        starts = line_starts(self.source)
        candidates = dict.fromkeys(bisect.bisect_right(starts, m.start()) for m in re.finditer("noqa", self.source, re.I))
        return [line1 for line1 in candidates if NOQA.search(self.lines[line1 - 1])]

    def _may_hold_noqa(self, line1: int) -> bool:
        """Whether the line where line ``line1``'s ``# noqa`` goes may hold one: a line from
        it to the end of its segment has the text of one. Most reports need no tokens."""
        found = self.noqa_lines
        at = bisect.bisect_left(found, line1)
        if at == len(found):
            return False
        bounds = self._bounds
        if bounds is None:
            return True
        after = bisect.bisect_right(bounds, line1)  # the next segment's
        return after == len(bounds) or found[at] < bounds[after]

    def silences(self, line1: int, code: str) -> bool:
        return self.exempts(code) or self.silenced_at(line1, code) is not None

    def exempts(self, code: str) -> bool:
        """Whether a ``# pitfalls: noqa`` comment line exempts the file from ``code``."""
        every, codes = self._file_exemption
        return every or code in codes

    @cached_property
    def _file_exemption(self) -> tuple[bool, frozenset[str]]:
        if not self.mentioned or not re.search(r"#\s*pitfalls\s*:\s*noqa", self.source, re.I):
            return False, frozenset()
        codes: set[str] = set()
        for line1, line in enumerate(self.lines, start=1):
            column = self._scan_of(line1).comments.get(line1) if FILE_NOQA.search(line) else None
            match = None if column is None else FILE_NOQA.match(line, column)
            if match is None or line[:column].strip():
                continue
            if match.group("codes") is None:
                return True, frozenset()
            codes.update(c.group(0).upper() for c in _CODE.finditer(match.group("codes")))
        return False, frozenset(codes)

    def insertion(self, line1: int, codes: Iterable[str]) -> tuple[int, int, int, str] | None:
        """How to silence ``codes`` reported on line ``line1``: (line, start, end, text) to
        replace columns start..end of that line with. The codes join the line's ``# noqa:``
        list, or a new ``# noqa`` goes after the code and any other comment. None when
        they are silenced already or no comment can go there safely."""
        wanted = [c for c in dict.fromkeys(codes) if not self.silences(line1, c)]
        target = self.target(line1)
        if not wanted or target is None or self._scan_of(target).ends is None:
            return None
        line = self.lines[target - 1]
        found = self.directives(target)
        listed = ", ".join(wanted)
        if found:  # none is bare: a bare one silences every code
            at = found[0].codes_end
            return target, at, at, f", {listed}"
        stripped = len(line.rstrip())
        return target, stripped, len(line), f"  # noqa: {listed}"


def _tokenize(lines: list[str], first: int) -> SegmentTokens:
    """The tokens' facts of ``lines`` (with their endings), the first being line ``first``."""
    ends: list[int] = []
    comments: dict[int, int] = {}
    # Line endings as \n: the tokenizer splits only there, Python also at \r.
    feed = iter([line.rstrip("\r\n") + "\n" for line in lines])
    shift = first - 1
    try:
        for tok in tokenize.generate_tokens(lambda: next(feed, "")):
            if tok.type in (tokenize.NEWLINE, tokenize.NL):
                ends.append(tok.start[0] + shift)
            elif tok.type == tokenize.COMMENT:
                comments[tok.start[0] + shift] = tok.start[1]
    except (tokenize.TokenError, SyntaxError):
        return SegmentTokens(None, {})
    return SegmentTokens(ends, comments)


def add_noqa(source: str, findings: Iterable[tuple[int, str]]) -> tuple[str, int]:
    """``source`` with a ``# noqa`` for each (line, code) finding, and how many lines got
    one or had codes added. Only comments change; line endings stay as they are."""
    comments = NoqaComments(source)
    codes: dict[int, set[str]] = {}
    for line1, code in findings:
        target = comments.target(line1)
        if target is not None:
            codes.setdefault(target, set()).add(code)
    parts = lines_with_ends(source)
    changed = 0
    for target in sorted(codes):
        found = comments.insertion(target, sorted(codes[target]))
        if found is None or target > len(parts):
            continue
        _, start, end, text = found
        part = parts[target - 1]
        content = part.rstrip("\r\n")
        parts[target - 1] = content[:start] + text + content[end:] + part[len(content):]
        changed += 1
    return "".join(parts), changed


@dataclass(frozen=True)
class Unused:
    """A ``# noqa`` directive with PF codes that silence nothing here (PF001)."""

    line: int
    directive: Directive
    unused: tuple[str, ...]  # codes of rules that ran and reported nothing it silenced
    unknown: tuple[str, ...]  # PF codes no rule has


def unused_codes(
    comments: NoqaComments, silenced: Mapping[int, Set[str]], ran: Set[str], known: Set[str]
) -> list[Unused]:
    """The directives naming PF codes that silence nothing: unknown codes, and codes of
    rules in ``ran`` that silenced no finding there (``silenced``: line -> codes silenced
    by its ``# noqa``). Other tools' codes and bare ``# noqa`` are not ours to judge."""
    if not comments.mentioned:
        return []
    out = []
    for line1 in comments.noqa_lines:
        for directive in comments.directives(line1):
            ours = list(dict.fromkeys(code for _, _, code in directive.spans if OUR_CODE.fullmatch(code)))
            unknown = tuple(c for c in ours if c not in known)
            unused = tuple(c for c in ours if c in ran and c not in silenced.get(line1, ()))
            if unknown or unused:
                out.append(Unused(line1, directive, unused, unknown))
    return out


def removal(line: str, directive: Directive, drop: Set[str]) -> tuple[int, int, str]:
    """(start, end, text) that removes the codes ``drop`` from ``directive`` on ``line``:
    the whole directive when no code is left, keeping the rest of the comment."""
    kept = [line[s:e] for s, e, code in directive.spans if code not in drop]
    if kept:
        spans = directive.spans
        separator = line[spans[0][1] : spans[1][0]] if len(spans) > 1 else ", "
        return directive.codes_start, directive.codes_end, separator.join(kept)
    before, after = line[: directive.start], line[directive.codes_end :]
    if not after.strip():  # the directive ends the line
        return len(before.rstrip()), len(line), ""
    # Text follows (`# noqa: PF101 -- why`, `# noqa: PF101  # why`): it stays a comment.
    rest = len(after) - len(after.lstrip())
    return directive.start, directive.codes_end + rest, "" if after.lstrip().startswith("#") else "# "
