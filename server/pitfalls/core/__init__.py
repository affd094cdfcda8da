"""Text to diagnostics: parsing, the index, the rule runner, noqa, fixes. No I/O, no LSP."""
