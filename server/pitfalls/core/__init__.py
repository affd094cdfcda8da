"""Text to diagnostics: parsing, the index, the rule runner, noqa, fixes. No I/O, no LSP."""

from pitfalls.core.cst_identity import use_identity_slots

use_identity_slots()
