"""Files on disk: reading source, hashing it, and replacing files without ever losing one.

A file is replaced atomically (a temporary file beside it, renamed over it), and only when
its content is still what was analysed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Callable

from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.settings import DEFAULT_MAX_FILE_MB
from pitfalls.core.source import ParseFailure, decode


class FixError(Exception):
    """A file that could not be fixed; the message says why, the file is unchanged."""


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def display_path(path: Path | str, base: Path | str | None = None) -> str:
    """Relative to ``base`` (the working directory) when below it, else absolute."""
    base_text = os.path.abspath(base or os.getcwd())
    full = os.path.abspath(path)
    if full.startswith(base_text + os.sep):
        return full[len(base_text) + 1 :]  # both normal: the relative path, without relpath's cost
    return full


class UnreadableFile(Exception):
    """A source file that is not read: the message is its PF000."""


def read_bounded(path: str | Path, max_mb: float = DEFAULT_MAX_FILE_MB) -> bytes:
    """The bytes of a regular file of at most ``max_mb`` megabytes.

    Raises UnreadableFile otherwise, without blocking or reading on: a FIFO named ``*.py``
    would wait for a writer forever, and a link to ``/dev/zero`` never ends."""
    limit = int(max_mb * 1_000_000)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as file:
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise UnreadableFile("cannot read file: not a regular file")
            # read(n) allocates its n bytes first: ask for what the file holds (a 1 GB limit
            # would reserve 1 GB for a file of a few), and for the rest if it grew since.
            data = file.read(min(st.st_size, limit) + 1)
            if st.st_size < len(data) <= limit:
                data += file.read(limit + 1 - len(data))
        except OSError as exc:
            raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > limit:
        size = os.path.getsize(path) / 1_000_000
        raise UnreadableFile(f"not checked: {size:,.1f} MB is over max-file-size ({max_mb:g} MB)")
    return data


def read_source(path: str, max_mb: float = DEFAULT_MAX_FILE_MB) -> tuple[str | None, Diagnostic | None]:
    """(text, None); (the bytes decoded leniently, PF000) for a file that is not valid
    source; (None, None) when it cannot be read at all."""
    try:
        data = read_bounded(path, max_mb)
    except UnreadableFile:
        return None, None
    try:
        return decode(path, data), None
    except ParseFailure as exc:
        return data.decode("utf-8", "replace"), exc.diagnostic


def write_atomically(path: Path, original: bytes, new_text: str, encoding: str = "utf-8") -> None:
    """Replace ``path`` with ``new_text`` if it still holds ``original``; never half-write.

    A symbolic link stays one: its target is what gets replaced. The content and the
    modification time are checked again just before the rename, so a save made while the
    fixed file was being written is never overwritten (the file is left alone instead)."""
    path = Path(os.path.realpath(path))
    try:
        st = path.stat()
    except OSError as exc:
        raise FixError(f"cannot read file: {exc.strerror or exc}") from None
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise FixError("file is read-only; fixes not applied")
    try:
        current = path.read_bytes()
    except OSError as exc:
        raise FixError(f"cannot read file: {exc.strerror or exc}") from None
    if current != original:
        raise FixError(_CHANGED)
    try:
        data = new_text.encode(encoding)
    except UnicodeEncodeError:
        raise FixError(f"the fixed code cannot be written in the file's encoding ({encoding})") from None

    def unchanged() -> None:
        try:
            now = path.stat()
            same = (now.st_mtime_ns, now.st_size, now.st_ino) == (st.st_mtime_ns, st.st_size, st.st_ino)
            same = same and path.read_bytes() == original
        except OSError:
            same = False
        if not same:
            raise FixError(_CHANGED)

    try:
        replace_file(path, data, stat.S_IMODE(st.st_mode), before_rename=unchanged)
    except OSError as exc:
        raise FixError(f"cannot write file: {exc.strerror or exc}") from None


_CHANGED = "file changed while pitfalls was running; fixes not applied"


def replace_file(path: Path, data: bytes, mode: int | None = None, before_rename: Callable[[], None] | None = None) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``:
    readers see the old file or the new one, never half of one; no temp file is left.
    ``before_rename`` runs last thing before the rename and may refuse it by raising."""
    tmp = None
    try:
        import tempfile  # only to write: a check never does

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".pitfalls-tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        if before_rename is not None:
            before_rename()
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
