"""libcst nodes hashed and compared by identity in C, not in Python.

libcst defines every node's ``__hash__`` as ``id(self)`` and its ``__eq__`` as ``self is
other``, as Python functions: each dictionary look-up keyed by a node (the engine keeps
walks, facts, positions and summaries by node) calls one. ``object``'s own slots mean the
same (equal only to itself; NotImplemented against anything else ends in an identity
test) at half the cost: about ten thousand look-ups per keystroke in a 2,000-line file.
Installed with the parser's other adjustments (``source.unvalidated``), before the first
tree is made: a run whose results are all cached never imports libcst.
"""

from __future__ import annotations

import libcst as cst


def use_identity_slots() -> None:
    """Give every node class that has libcst's identity methods ``object``'s instead (a
    class libcst defines after this inherits them from CSTNode)."""
    python_hash, python_eq = cst.CSTNode.__dict__["__hash__"], cst.CSTNode.__dict__["__eq__"]
    stack: list[type] = [cst.CSTNode]
    while stack:
        cls = stack.pop()
        if cls.__dict__.get("__hash__") is python_hash:
            cls.__hash__ = object.__hash__  # type: ignore[assignment]
        if cls.__dict__.get("__eq__") is python_eq:
            cls.__eq__ = object.__eq__  # type: ignore[assignment]
        stack.extend(cls.__subclasses__())
