"""Engine positions -> LSP positions: each encoding's count of a line's prefix, with LSP's
line endings (\\n, \\r\\n, \\r), whatever the text holds."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pitfalls.lsp.text import Text

_UNITS = {"utf-8": lambda s: len(s.encode("utf-8", "surrogatepass")), "utf-16": lambda s: len(s.encode("utf-16-le", "surrogatepass")) // 2, "utf-32": len}


@given(
    text=st.lists(st.sampled_from(["a", "é", "😀", "\n", "\r\n", "\r", " ", "\x0c", "\u2028"]), max_size=40).map("".join),
    line=st.integers(-1, 12),
    column=st.integers(-2, 12),
    encoding=st.sampled_from(sorted(_UNITS)),
)
def test_a_position_counts_the_units_of_the_lines_prefix(text: str, line: int, column: int, encoding: str) -> None:
    lines = re.split(r"\r\n|\r|\n", text)  # only these end a line for LSP (not \x0c, not U+2028)
    found = Text(text, encoding).position(line, column)
    if line < 0:
        assert (found.line, found.character) == (0, 0)
        return
    if line >= len(lines):
        line, column = len(lines) - 1, len(text)
    prefix = lines[line][: max(0, min(column, len(lines[line])))]
    assert (found.line, found.character) == (line, _UNITS[encoding](prefix))
