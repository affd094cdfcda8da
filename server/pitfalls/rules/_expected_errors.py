"""Code written to fail: the body of a ``try`` whose handlers catch, or of a ``with`` whose
context manager expects (``pytest.raises``, ``assertRaises``), the error a finding names.

Shared by PF206 and PF209. A rule mixes :class:`ExpectedErrors` in before ``Rule`` and
says what counts (:meth:`catches`, :meth:`expects`); :attr:`expecting` is true inside such
a block. A function or lambda defined there runs later, outside it: the count restarts.
"""

from __future__ import annotations

from typing import Any

import libcst as cst


class ExpectedErrors:
    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)  # type: ignore[call-arg]  # Rule's
        self._expected_blocks: set[int] = set()  # bodies that expect the error, by id
        self._expected_depth = 0  # how many of them hold the current node
        self._outer_depths: list[int] = []

    @property
    def expecting(self) -> bool:
        return self._expected_depth > 0

    def catches(self, caught: cst.BaseExpression) -> bool:
        """Whether an ``except`` clause's type (or tuple of types) catches the error."""
        raise NotImplementedError

    def expects(self, item: cst.BaseExpression) -> bool:
        """Whether a ``with`` item expects the error."""
        raise NotImplementedError

    def visit_Try(self, node: cst.Try | cst.TryStar) -> None:
        if any(h.type is None or self.catches(h.type) for h in node.handlers):
            self._expected_blocks.add(id(node.body))

    visit_TryStar = visit_Try

    def visit_With(self, node: cst.With) -> None:
        if any(self.expects(item.item) for item in node.items):
            self._expected_blocks.add(id(node.body))

    def visit_IndentedBlock(self, node: cst.BaseSuite) -> None:
        if id(node) in self._expected_blocks:
            self._expected_depth += 1

    def leave_IndentedBlock(self, node: cst.BaseSuite) -> None:
        if id(node) in self._expected_blocks:
            self._expected_blocks.discard(id(node))
            self._expected_depth -= 1

    visit_SimpleStatementSuite = visit_IndentedBlock
    leave_SimpleStatementSuite = leave_IndentedBlock

    def visit_FunctionDef(self, node: cst.FunctionDef | cst.Lambda) -> None:
        self._outer_depths.append(self._expected_depth)
        self._expected_depth = 0

    def leave_FunctionDef(self, node: cst.FunctionDef | cst.Lambda) -> None:
        self._expected_depth = self._outer_depths.pop()

    visit_Lambda = visit_FunctionDef
    leave_Lambda = leave_FunctionDef
