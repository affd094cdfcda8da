"""What a person at a terminal gets and a pipe does not: colour, severities, progress.

Plain ANSI codes: ``rich`` would cost 35-70 ms of import on every run for one coloured line
per finding and one progress line. ``NO_COLOR`` (no-color.org) turns colour off and wins;
``FORCE_COLOR`` (force-color.org) turns it on where stdout is no terminal.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import TextIO

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
RED = "\x1b[31m"
YELLOW = "\x1b[33m"
BLUE = "\x1b[34m"
CYAN = "\x1b[36m"
CLEAR_LINE = "\r\x1b[2K"

# A run shorter than this shows no progress at all: most runs end before anyone looks.
PROGRESS_AFTER_SECONDS = 1.0
PROGRESS_REDRAW_SECONDS = 0.1


@dataclass(frozen=True)
class Style:
    """How text output looks: ``human`` adds each finding's severity, ``colour`` paints."""

    human: bool = False
    colour: bool = False

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        forced = bool(os.environ.get("FORCE_COLOR"))
        human = forced or _isatty(stream)
        return cls(human=human, colour=human and not os.environ.get("NO_COLOR"))

    def paint(self, text: str, *codes: str) -> str:
        return f"{''.join(codes)}{text}{RESET}" if self.colour and text else text


# Control characters but tab and newline (C0, DEL, C1): an escape sequence in a file name
# or a server's message could move the cursor, rewrite the screen or set the title.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` safe for a terminal or a log: control characters shown as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


class ProgressLine:
    """One line on a terminal's stderr, redrawn in place (``Checking 120/413 files``) once
    a run has taken :data:`PROGRESS_AFTER_SECONDS`, and wiped before the report. On a
    stream that is no terminal it writes nothing."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = _isatty(stream)
        self.started = time.monotonic()
        self.drawn = 0.0  # when it last drew; 0: never

    def __call__(self, step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.started < PROGRESS_AFTER_SECONDS:
            return
        if done < total and now - self.drawn < PROGRESS_REDRAW_SECONDS:
            return
        self.stream.write(f"{CLEAR_LINE}{step} {done}/{total} files")
        self.stream.flush()
        self.drawn = now

    def close(self) -> None:
        if self.drawn:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self.drawn = 0.0
