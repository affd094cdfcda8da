"""``pitfalls server``: the language server (LSP over stdio), a thin layer over the engine.

It maps LSP onto :class:`pitfalls.project.workspace.Workspace` (one per workspace folder,
each with its own configuration) and nothing in the engine knows LSP. The pieces:
:mod:`~pitfalls.lsp.handlers` (the LSP methods), :mod:`~pitfalls.lsp.session` (the state:
projects, documents, scheduling; :mod:`~pitfalls.lsp.jobs`), :mod:`~pitfalls.lsp.scanning` (folders checked whole),
:mod:`~pitfalls.lsp.project` (the engine work),
:mod:`~pitfalls.lsp.settings`, :mod:`~pitfalls.lsp.actions`, :mod:`~pitfalls.lsp.convert`,
:mod:`~pitfalls.lsp.text` (positions) and :mod:`~pitfalls.lsp.protocol` (JSON-RPC with a
client that misbehaves). This module only starts it.
"""

from __future__ import annotations

import gc
import logging
import os
import platform
import sys

from pitfalls import __version__
from pitfalls.lsp.handlers import create_server

__all__ = ["create_server", "serve"]

# `pitfalls server --log-level`: (pitfalls' level, the libraries' level); pygls says a lot at
# INFO (every feature it registers) and logs each message at DEBUG, so it lags one step behind.
_LOG_LEVELS = {
    "error": (logging.ERROR, logging.ERROR),
    "warning": (logging.WARNING, logging.WARNING),
    "info": (logging.INFO, logging.WARNING),
    "debug": (logging.DEBUG, logging.INFO),
    "trace": (logging.DEBUG, logging.DEBUG),
}


def serve(log_level: str = "warning") -> int:
    """Run the server over stdio until ``exit`` (or until stdin closes or the parent dies)."""
    level, libraries = _LOG_LEVELS[log_level]
    logging.basicConfig(level=libraries, stream=sys.stderr, format="pitfalls server: %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("pitfalls")
    log.setLevel(level)
    # which pitfalls, which Python and which sys.path: what an isolated bundle is checked by
    log.info("pitfalls %s on Python %s (%s), sys.path %s", __version__, platform.python_version(), sys.executable, sys.path)
    # The protocol gets its own copies of stdin and stdout. Anything else writing to fd 1 (a
    # stray print, a worker process) goes to stderr instead of corrupting the stream; and
    # sys.stdin is not the object the reader thread blocks in: a scan's worker processes are
    # forked, and multiprocessing closes sys.stdin in the child, which would deadlock on the
    # lock the reader thread held at fork time.
    protocol_in = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - for the process' lifetime
    server = create_server()
    # Collections are run explicitly after engine work (PitfallsServer.collect_garbage):
    # automatic ones land in the middle of parses, which allocate a whole tree each, and
    # traverse every long-lived object (+100 ms on a 2,000-line file, one check in two).
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        server.start_io(protocol_in, protocol_out)  # type: ignore[arg-type]
    finally:
        server.terminate(0 if server.shutdown_requested else 1)
    return 0
