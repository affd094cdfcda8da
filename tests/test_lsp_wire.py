"""What the server writes on the wire: its diagnostics, as lsprotocol would write them."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pitfalls.lsp.protocol import converter
from pygls.protocol import default_converter


_TEXT = st.text(max_size=12)
_POSITIONS = st.builds(types.Position, line=st.integers(0, 2**31 - 1), character=st.integers(0, 2**31 - 1))
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_DIAGNOSTICS = st.builds(
    types.Diagnostic,
    range=st.builds(types.Range, start=_POSITIONS, end=_POSITIONS),
    message=_TEXT,
    severity=st.none() | st.sampled_from(types.DiagnosticSeverity),
    code=st.none() | _TEXT | st.integers(-(2**31), 2**31 - 1),
    code_description=st.none() | st.builds(types.CodeDescription, href=st.just("https://docs.example/PF101")),
    source=st.none() | _TEXT,
    tags=st.none() | st.lists(st.sampled_from(types.DiagnosticTag), max_size=2),
    related_information=st.none() | st.just([]),
    data=st.none() | _JSON,
)


@settings(max_examples=300, deadline=None)
@given(_DIAGNOSTICS)
def test_diagnostics_are_sent_as_lsprotocol_writes_them(diagnostic: types.Diagnostic) -> None:
    """The server writes its diagnostics out directly (faster than cattrs' generated
    hooks): the JSON is lsprotocol's, whatever fields are set."""
    ours, theirs = converter().unstructure(diagnostic), default_converter().unstructure(diagnostic)
    assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True)
