"""What a person at a terminal gets and a pipe does not: colour, severities, progress.

Plain ANSI codes: ``rich`` would cost 35-70 ms of import on every run for one coloured line
per finding and one progress line. ``NO_COLOR`` (no-color.org) turns colour off and wins;
``FORCE_COLOR`` (force-color.org) turns it on where stdout is no terminal.

Progress goes to stderr alone, and only where a person watches it: never to a pipe or a
file, nor under ``CI`` (CI runners that give commands a pseudo-terminal keep its output as a
log). ``PITFALLS_PROGRESS_DELAY`` (seconds; ``inf`` for never) replaces the one-second wait.
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
PROGRESS_DELAY_VARIABLE = "PITFALLS_PROGRESS_DELAY"
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
    """One line on a terminal's stderr, redrawn in place (``pitfalls: Checking 120/413 files``)
    once a run has taken :data:`PROGRESS_AFTER_SECONDS`, and wiped before the report. On a
    stream that is no terminal, or under CI, it writes nothing."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = _isatty(stream) and not _in_ci()
        # A dumb terminal knows carriage return but no escape sequence: spaces wipe instead.
        self.dumb = os.environ.get("TERM") == "dumb"
        self.delay = _progress_delay()
        self.started = time.monotonic()
        self.drawn = 0.0  # when it last drew; 0: never
        self.width = 0  # characters the line holds

    def __call__(self, step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.started < self.delay:
            return
        if done < total and now - self.drawn < PROGRESS_REDRAW_SECONDS:
            return
        # One column short of the width: a full row wraps, and a carriage return then
        # goes back to the start of the second row only.
        text = f"pitfalls: {step} {done:,}/{total:,} files"[: max(_columns(self.stream) - 1, 1)]
        if self.dumb:
            self.stream.write(f"\r{text.ljust(self.width)}")
        else:
            self.stream.write(f"{CLEAR_LINE}{text}")
        self.stream.flush()
        self.drawn, self.width = now, len(text)

    def close(self) -> None:
        if self.drawn:
            self.stream.write(f"\r{' ' * self.width}\r" if self.dumb else CLEAR_LINE)
            self.stream.flush()
            self.drawn, self.width = 0.0, 0


def _in_ci() -> bool:
    """``CI`` set (GitHub Actions, GitLab, Buildkite, Travis, CircleCI ... all set it)."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def _progress_delay() -> float:
    try:
        return max(float(os.environ[PROGRESS_DELAY_VARIABLE]), 0.0)
    except (KeyError, ValueError):
        return PROGRESS_AFTER_SECONDS


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, OSError, ValueError):  # no file descriptor (a replaced stream)
        return 80
